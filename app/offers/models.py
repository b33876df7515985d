"""Offers as data: what an offer gives, where, to whom, its budget; each member's state
(activation, uses, progress) and what each offer did on each receipt."""

from __future__ import annotations

import enum
from datetime import datetime
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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class Mechanic(enum.StrEnum):
    FIXED_BONUS = "fixed_bonus"  # Y points per qualifying receipt
    MULTIPLIER = "multiplier"  # the qualifying lines' multiplier x percent / 100
    SPEND_GET = "spend_get"  # spend X in one receipt, get Y
    AGGREGATE_SPEND = "aggregate_spend"  # spend X over several receipts in the window, Y once


class Segment(enum.StrEnum):
    ALL = "all"
    TIER = "tier"
    NEW_MEMBERS = "new_members"  # joined within N days
    BIRTHDAY_MONTH = "birthday_month"
    CITY = "city"
    DORMANT = "dormant"  # no purchase for N days


class Scope(enum.StrEnum):
    """Which lines of a receipt an offer looks at (at the places where it applies)."""

    ALL = "all"
    BRAND = "brand"
    CATEGORY = "category"
    SKU = "sku"


class OfferStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("budget_left IS NULL OR budget_left >= 0", name="budget_not_negative"),
        Index("ix_offers_status_ends_at", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    funder_partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id")
    )  # None: programme
    titles: Mapped[dict[str, str]] = mapped_column(JSON)  # language -> text
    descriptions: Mapped[dict[str, str]] = mapped_column(JSON)
    image_url: Mapped[str | None] = mapped_column(String(500))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    partner_ids: Mapped[list[int] | None] = mapped_column(JSON)  # None: every partner
    store_ids: Mapped[list[int] | None] = mapped_column(JSON)  # None: every store of those
    segment: Mapped[Segment] = mapped_column(_enum(Segment))
    segment_value: Mapped[str | None] = mapped_column(String(80))
    mechanic: Mapped[Mechanic] = mapped_column(_enum(Mechanic))
    scope: Mapped[Scope] = mapped_column(_enum(Scope))
    scope_values: Mapped[list[str]] = mapped_column(JSON)  # lower-cased
    points: Mapped[int] = mapped_column(BigInteger)  # the bonus (0 for multipliers)
    multiplier_pct: Mapped[int] = mapped_column(Integer)  # 200 = double (multipliers)
    min_spend: Mapped[int] = mapped_column(BigInteger)  # minor units of ``currency``
    currency: Mapped[str | None] = mapped_column(String(3))  # None: any (no spend rule)
    activation_required: Mapped[bool]
    uses_per_member: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    budget_points: Mapped[int | None] = mapped_column(BigInteger)  # None: no cap
    budget_left: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[OfferStatus] = mapped_column(_enum(OfferStatus))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    def title_in(self, language: str) -> str:
        return _pick(self.titles, language)

    def description_in(self, language: str) -> str:
        return _pick(self.descriptions, language)


def _pick(texts: dict[str, Any], language: str) -> str:
    for lang in (language, "sq", "en"):
        if texts.get(lang):
            return str(texts[lang])
    return str(next(iter(texts.values()), ""))


class OfferMember(Base):
    """One member's state on one offer: activated, uses so far, aggregated progress."""

    __tablename__ = "offer_members"
    __table_args__ = (
        CheckConstraint("uses >= 0", name="uses_not_negative"),
        Index("ix_offer_members_member_id", "member_id"),
    )

    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    activated_at: Mapped[datetime | None]
    uses: Mapped[int] = mapped_column(Integer)
    progress: Mapped[int] = mapped_column(BigInteger)  # qualifying spend (aggregated offers)
    completed_at: Mapped[datetime | None]  # aggregated: the threshold was crossed, Y given
    updated_at: Mapped[datetime]


class OfferReceipt(Base):
    """What one offer did on one receipt: the qualifying spend it counted and the points it
    gave (its own ledger entry), and what returns took back. ``(offer_id, receipt_id)`` is
    unique: a receipt gets an offer once."""

    __tablename__ = "offer_receipts"
    __table_args__ = (
        UniqueConstraint("offer_id", "receipt_id"),
        Index("ix_offer_receipts_receipt_id", "receipt_id"),
        Index("ix_offer_receipts_member_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    qualifying_amount: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[int] = mapped_column(BigInteger)
    points_reversed: Mapped[int] = mapped_column(BigInteger)
    points_uncollected: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
