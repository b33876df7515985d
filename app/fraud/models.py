"""Fraud limits (programme data), their counters per window and the alerts they raise."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class LimitKind(StrEnum):
    """What a limit counts (and per whom, in which window)."""

    POINTS_PER_RECEIPT = "points_per_receipt"
    POINTS_PER_MEMBER_DAY = "points_per_member_day"
    POINTS_PER_CASHIER_DAY = "points_per_cashier_day"
    POINTS_PER_STORE_DAY = "points_per_store_day"
    REDEMPTIONS_PER_MEMBER_DAY = "redemptions_per_member_day"
    RECEIPTS_PER_CARD_HOUR = "receipts_per_card_hour"


class Severity(StrEnum):
    HARD = "hard"  # refuse (nothing written) and alert
    SOFT = "soft"  # let through, warn the till and alert


class FraudLimit(Base):
    """One limit: ``kind`` may not exceed ``value``; programme-wide (``scope`` empty) or
    for one partner's receipts (``partner:<id>``) or one store's (``store:<id>``)."""

    __tablename__ = "fraud_limits"
    __table_args__ = (UniqueConstraint("kind", "severity", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(4))
    value: Mapped[int] = mapped_column(BigInteger)
    scope: Mapped[str] = mapped_column(String(40), default="")
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), nullable=True
    )
    store_id: Mapped[int | None] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FraudCounter(Base):
    """What one subject (member, cashier, store) did of ``kind`` in one period (a programme
    day ``2026-12-01`` or a UTC hour ``2026-12-01T14``). Changed only by one
    ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` in the counted transaction."""

    __tablename__ = "fraud_counters"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(80), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class FraudAlert(Base):
    """A limit breached by one subject in one window: one open alert, however many times
    (``breaches``), until the operator acknowledges it."""

    __tablename__ = "fraud_alerts"
    __table_args__ = (
        # One open alert per limit, subject and window (a flood is one row with a count).
        Index(
            "uq_fraud_alerts_open",
            "limit_id",
            "subject",
            "period",
            unique=True,
            sqlite_where=text("acknowledged_at IS NULL"),
            postgresql_where=text("acknowledged_at IS NULL"),
        ),
        Index("ix_fraud_alerts_last_at", "last_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    limit_id: Mapped[int | None] = mapped_column(
        ForeignKey("fraud_limits.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(4))
    limit_value: Mapped[int] = mapped_column(BigInteger)
    subject: Mapped[str] = mapped_column(String(80))
    period: Mapped[str] = mapped_column(String(16))
    observed: Mapped[int] = mapped_column(BigInteger)  # the highest value attempted
    breaches: Mapped[int] = mapped_column(Integer, default=1)
    refused: Mapped[int] = mapped_column(Integer, default=0)  # of which refused (hard)
    partner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    store_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cashier_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    member_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reference: Mapped[str] = mapped_column(String(120))  # the first breach's receipt/voucher
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None] = mapped_column(nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
