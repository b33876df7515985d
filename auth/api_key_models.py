"""Partner API keys: one store each, stored hashed, revocable."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class PartnerApiKey(Base):
    """A POS credential. The secret is shown once; only its keyed hash is kept.

    ``prefix`` is the public part of the key (``hpk_<prefix>_<secret>``): it finds the row
    without scanning, and names the key in listings and revocations.
    """

    __tablename__ = "partner_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    label: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
