"""Fixed-window counters shared by every process through the database."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class RateLimitCounter(Base):
    """Fixed-window request counters per (scope, key), e.g. code requests per address."""

    __tablename__ = "rate_limit_counters"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
