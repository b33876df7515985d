"""Reward levels (programme data), claims and the vouchers they issue."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class RewardLevel(Base):
    """Claiming ``level`` costs ``points`` and issues ``voucher_count`` vouchers of
    ``voucher_value`` minor units of ``currency`` each."""

    __tablename__ = "reward_levels"
    __table_args__ = (
        CheckConstraint("points > 0 AND voucher_count > 0 AND voucher_value > 0", name="positive"),
    )

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    points: Mapped[int] = mapped_column(BigInteger)
    voucher_count: Mapped[int] = mapped_column(Integer)
    voucher_value: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # Vouchers of this level are only valid at this partner (None: anywhere).
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime]


class RewardClaim(Base):
    """A claimed level. ``(member_id, request_id)`` is unique: an app retrying a claim with
    its request id gets the first claim back instead of a second one."""

    __tablename__ = "reward_claims"
    __table_args__ = (UniqueConstraint("member_id", "request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(BigInteger)
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class VoucherStatus(enum.StrEnum):
    ISSUED = "issued"
    REDEEMED = "redeemed"


class Voucher(Base):
    """A voucher. Redemption is one guarded ``UPDATE ... WHERE status = 'issued'``."""

    __tablename__ = "vouchers"
    __table_args__ = (Index("ix_vouchers_member_id_status", "member_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("reward_claims.id"))
    value_amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[VoucherStatus] = mapped_column(
        Enum(
            VoucherStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))  # restriction
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    redeemed_at: Mapped[datetime | None]
    redeemed_partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    redeemed_store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    redeemed_receipt_id: Mapped[str | None] = mapped_column(String(64))


class VoucherRedemption(Base):
    """Audit of every redemption and its void (settlement per partner reads this)."""

    __tablename__ = "voucher_redemptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("vouchers.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    receipt_id: Mapped[str] = mapped_column(String(64))
    value_amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    redeemed_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    # The voucher's value in EUR and in the store's currency at the rate of the day (units
    # of the store currency per 1 EUR), as told to the till (issue 14). NULL only on rows
    # made before these columns existed in a non-EUR store.
    eur_amount: Mapped[int | None] = mapped_column(BigInteger)
    store_amount: Mapped[int | None] = mapped_column(BigInteger)
    store_currency: Mapped[str | None] = mapped_column(String(3))
    fx_rate: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
