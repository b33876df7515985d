"""USSD gateway tokens: one per aggregator connection, stored hashed, revocable."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class UssdGateway(Base):
    """A USSD aggregator's credential. The token is shown once; only its keyed hash is kept.

    ``prefix`` is the public part of the token (``hug_<prefix>_<secret>``): it finds the row
    and names the gateway in listings and revocations.
    """

    __tablename__ = "ussd_gateways"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
