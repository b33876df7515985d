"""Exchange rates (programme data): how many units of a currency one euro buys, from a day on."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class ExchangeRate(Base):
    """``rate`` units of ``currency`` per 1 EUR, valid from ``valid_from`` (a day in the
    programme's time zone) until the next row of the same currency begins."""

    __tablename__ = "exchange_rates"
    __table_args__ = (CheckConstraint("rate > 0", name="positive"),)

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    rate: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    updated_at: Mapped[datetime]
