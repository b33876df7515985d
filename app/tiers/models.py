"""Tiers as programme data (Happy, Happy+) and the tier each member holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class Tier(Base):
    """A card level. ``threshold`` points earned in the last 12 months (net of returns)
    qualify; ``earn_bonus_pct`` percentage points are added to every earning line."""

    __tablename__ = "tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    threshold: Mapped[int] = mapped_column(BigInteger)
    earn_bonus_pct: Mapped[int] = mapped_column(Integer)
    # Apple pass colours, "rgb(r, g, b)"; None: the pass's defaults.
    background_colour: Mapped[str | None] = mapped_column(String(20))
    foreground_colour: Mapped[str | None] = mapped_column(String(20))
    label_colour: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MemberTier(Base):
    """The tier a member holds above the base one (no row: the base tier). ``kept_until``
    is the end of the tier's period: until then a drop in points does not move them down."""

    __tablename__ = "member_tiers"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("tiers.id"), index=True)
    since: Mapped[datetime]
    kept_until: Mapped[datetime]
    updated_at: Mapped[datetime]
