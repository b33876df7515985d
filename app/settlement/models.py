"""Closed settlement months: the report as it was when the month was closed.

A closed month's report is read from these rows, never recomputed, so it never changes
(late data lands in the month it happens in: a void next month is next month's)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class SettlementMonth(Base):
    __tablename__ = "settlement_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    closed_at: Mapped[datetime]
    closed_by: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    point_value_micro_eur: Mapped[int] = mapped_column(BigInteger)
    # Points in lots at the month's start and end, as computed at closing (the tie-out).
    outstanding_at_start: Mapped[int] = mapped_column(BigInteger)
    outstanding_at_end: Mapped[int] = mapped_column(BigInteger)


class SettlementRow(Base):
    __tablename__ = "settlement_rows"
    __table_args__ = (UniqueConstraint("month", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), ForeignKey("settlement_months.month"))
    position: Mapped[int]
    row_kind: Mapped[str] = mapped_column(String(10))  # partner, programme, totals
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    partner_code: Mapped[str | None] = mapped_column(String(40))
    partner_name: Mapped[str | None] = mapped_column(String(200))
    points_issued: Mapped[int] = mapped_column(BigInteger)
    points_reversed: Mapped[int] = mapped_column(BigInteger)
    points_expired: Mapped[int] = mapped_column(BigInteger)
    points_spent: Mapped[int] = mapped_column(BigInteger)
    points_forfeited: Mapped[int] = mapped_column(BigInteger)
    vouchers_redeemed: Mapped[int] = mapped_column(BigInteger)
    vouchers_value_cents: Mapped[int] = mapped_column(BigInteger)
    liability_cents: Mapped[int] = mapped_column(BigInteger)
    net_cents: Mapped[int] = mapped_column(BigInteger)
    # Points refunds moved between funders (0016_fix14; months closed before it: 0).
    points_transferred: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
