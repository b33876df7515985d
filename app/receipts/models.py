"""Receipts sent by partner tills, their lines and their refunds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base
from app.receipts.scoring import BreakdownItem, Rate


class Receipt(Base):
    """One till receipt. ``(partner_id, external_id)`` is unique: the POS's receipt id is
    the idempotency key, ``fingerprint`` tells a retry from a different receipt and
    ``answer`` is the first answer, returned again to every retry."""

    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("partner_id", "external_id"),
        Index("ix_receipts_member_id_issued_at_id", "member_id", "issued_at", "id"),
        Index("ix_receipts_partner_id_issued_at_id", "partner_id", "issued_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[int] = mapped_column(BigInteger)
    cashier_id: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(10))  # realtime | batch
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The earn rate in force when the receipt was scored (refunds use it again).
    rate_points: Mapped[int] = mapped_column(Integer)
    rate_per_amount: Mapped[int] = mapped_column(BigInteger)
    points_earned: Mapped[int] = mapped_column(BigInteger)  # the lines' points (not bonuses)
    # Flat offer bonuses (their own ledger entries; returns take them back by offer rules).
    bonus_points: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    points_reversed: Mapped[int] = mapped_column(BigInteger, default=0)
    points_uncollected: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]

    @property
    def rate(self) -> Rate:
        """The earn rate the receipt was scored with (its refunds are scored with it too)."""
        return Rate(self.rate_points, self.rate_per_amount)

    @property
    def breakdown_items(self) -> tuple[BreakdownItem, ...]:
        return tuple(BreakdownItem.from_json(item) for item in self.breakdown)


class ReceiptLine(Base):
    __tablename__ = "receipt_lines"
    __table_args__ = (UniqueConstraint("receipt_id", "line_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str | None] = mapped_column(String(60))
    category: Mapped[str | None] = mapped_column(String(60))
    quantity_milli: Mapped[int] = mapped_column(BigInteger)  # quantity x 1000 (weighed goods)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    # The effective multiplier it was scored with (0: excluded from earning).
    multiplier_pct: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str | None] = mapped_column(String(80))  # the modifier that applied
    points: Mapped[int] = mapped_column(BigInteger)  # this line's share, for display
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)


class ReceiptRefund(Base):
    """A return against a receipt; ``(receipt_id, external_id)`` makes retries safe."""

    __tablename__ = "receipt_refunds"
    __table_args__ = (UniqueConstraint("receipt_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    points_reversed: Mapped[int] = mapped_column(BigInteger)
    points_uncollected: Mapped[int] = mapped_column(BigInteger)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
