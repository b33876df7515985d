"""The programme's own rules, as data (one row: this coalition)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class Programme(Base):
    """Programme configuration. Defaults are the Happy coalition's (SPEC.md)."""

    __tablename__ = "programmes"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    name: Mapped[str] = mapped_column(String(100))
    welcome_bonus_points: Mapped[int]
    points_expiry_months: Mapped[int]
    timezone: Mapped[str] = mapped_column(String(64))
    default_language: Mapped[str] = mapped_column(String(2))
    card_prefix: Mapped[str] = mapped_column(String(8))
    # Vouchers worth this many EUR minor units or more need the member's SMS code at the
    # till (None: no voucher does). Issue 14; see app/rewards/service.py redeem_voucher.
    redemption_confirmation_eur: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # Changes whenever a fraud limit does (app/fraud): lets each process cache the limits and
    # know, from this row the receipt path reads anyway, when its copy is stale. Empty:
    # no limit was ever set, nothing to evaluate.
    limits_version: Mapped[str] = mapped_column(String(32), default="", server_default="")
    # What one point is worth in settlement: millionths of a euro (4,800 = 0.48 EUR cents,
    # the demo levels' 5,000 points -> 24 EUR of vouchers).
    point_value_micro_eur: Mapped[int] = mapped_column(BigInteger, server_default="4800")
    updated_at: Mapped[datetime]
