"""Earn rules as data: a base rate per partner and currency, brand/category modifiers."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class EarnRate(Base):
    """``points`` points for every ``per_amount`` minor units spent in ``currency``."""

    __tablename__ = "earn_rates"
    __table_args__ = (
        UniqueConstraint("partner_id", "currency"),
        CheckConstraint("points >= 0 AND per_amount > 0", name="positive_rate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    points: Mapped[int] = mapped_column(Integer)
    per_amount: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class ModifierKind(enum.StrEnum):
    BRAND = "brand"
    CATEGORY = "category"


class EarnModifier(Base):
    """A multiplier (percent: 200 = double points) for one brand or category of a partner.

    ``multiplier_pct`` 0 excludes the brand or category from earning.
    """

    __tablename__ = "earn_modifiers"
    __table_args__ = (
        UniqueConstraint("partner_id", "kind", "match"),
        CheckConstraint("multiplier_pct >= 0", name="multiplier_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    kind: Mapped[ModifierKind] = mapped_column(
        Enum(
            ModifierKind,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    match: Mapped[str] = mapped_column(String(60))  # lower-cased brand or category name
    multiplier_pct: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]
