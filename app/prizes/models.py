"""The prize catalogue per store, the wheel's segments, draws and budgets, and exchanges.

Stock is a column decremented by a guarded ``UPDATE ... WHERE stock > 0``; plays per day
and a segment's points budget per day are counters raised by a guarded upsert; so
concurrent requests can never hand out more than there is (see ``app.prizes.service``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Prize(Base):
    """A good in a store's catalogue, priced in points (no conversion rate)."""

    __tablename__ = "prizes"
    __table_args__ = (
        CheckConstraint("points_price > 0", name="positive_price"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        Index("ix_prizes_store_id_position", "store_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    name: Mapped[str] = mapped_column(String(120))
    image: Mapped[str | None] = mapped_column(String(300))
    points_price: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime]


class SegmentKind(enum.StrEnum):
    POINTS = "points"  # credits ``points`` (GAME_PRIZE), within the segment's daily budget
    VOUCHER = "voucher"  # issues a voucher of ``voucher_value`` ``voucher_currency``
    GOODS = "goods"  # a good to pick up at the store (a pickup code), from ``stock``
    NOTHING = "nothing"  # better luck next time


class WheelSegment(Base):
    """One segment of a store's wheel: drawn with probability weight / sum of the weights
    of the segments that can come up (in stock, within budget) at that moment."""

    __tablename__ = "wheel_segments"
    __table_args__ = (
        CheckConstraint("weight >= 0", name="weight_not_negative"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        Index("ix_wheel_segments_store_id_position", "store_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(60))
    kind: Mapped[SegmentKind] = mapped_column(_enum(SegmentKind))
    weight: Mapped[int] = mapped_column(Integer)
    points: Mapped[int | None] = mapped_column(BigInteger)
    voucher_value: Mapped[int | None] = mapped_column(BigInteger)
    voucher_currency: Mapped[str | None] = mapped_column(String(3))
    stock: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    daily_points_budget: Mapped[int | None] = mapped_column(BigInteger)  # None: unlimited
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime]


class WheelPlays(Base):
    """Plays a member used at a store on a programme day (guarded increment)."""

    __tablename__ = "wheel_plays"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    used: Mapped[int] = mapped_column(Integer)


class WheelBudgetDay(Base):
    """Points a points segment gave away on a programme day (guarded increment)."""

    __tablename__ = "wheel_budget_days"

    segment_id: Mapped[int] = mapped_column(ForeignKey("wheel_segments.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    spent: Mapped[int] = mapped_column(BigInteger)


class WheelDraw(Base):
    """One spin, with the odds in force when it was drawn (for the operator's proof)."""

    __tablename__ = "wheel_draws"
    __table_args__ = (Index("ix_wheel_draws_store_id_day", "store_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"))
    day: Mapped[date]
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("wheel_segments.id"))
    kind: Mapped[SegmentKind] = mapped_column(_enum(SegmentKind))
    label: Mapped[str] = mapped_column(String(60))
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    # [{"segment": public id, "label", "kind", "weight", "stock", "budget_left", "eligible"}]
    odds: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    roll: Mapped[int]  # secrets.randbelow(total_weight)
    total_weight: Mapped[int]
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("points_entries.id"))
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"))
    created_at: Mapped[datetime]


class ExchangeStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the member's SMS code; nothing taken yet
    CONFIRMED = "confirmed"  # points and stock taken; waiting at the store with a pickup code
    HANDED_OVER = "handed_over"
    CANCELLED = "cancelled"


class ExchangeSource(enum.StrEnum):
    CATALOGUE = "catalogue"
    WHEEL = "wheel"


class PrizeExchange(Base):
    """Points for a good (or a good won on the wheel), picked up with ``pickup_code``."""

    __tablename__ = "prize_exchanges"
    __table_args__ = (Index("ix_prize_exchanges_store_id_status", "store_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("kiosk_visits.id"))
    source: Mapped[ExchangeSource] = mapped_column(_enum(ExchangeSource))
    prize_id: Mapped[int | None] = mapped_column(ForeignKey("prizes.id"))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("wheel_segments.id"))
    prize_name: Mapped[str] = mapped_column(String(120))
    points: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[ExchangeStatus] = mapped_column(_enum(ExchangeStatus))
    # Keyed hash of the SMS code that confirmed it: a retry with the same code gets the
    # same answer without a second deduction.
    confirmation_hash: Mapped[str | None] = mapped_column(String(64))
    pickup_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("points_entries.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    handed_over_at: Mapped[datetime | None]
    handed_over_via: Mapped[str | None] = mapped_column(String(20))
    cancelled_at: Mapped[datetime | None]
