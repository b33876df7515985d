"""Kiosk credentials: one-time enrolment codes and device tokens, both stored hashed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class KioskEnrolmentCode(Base):
    """A one-time code that turns a tablet into the kiosk ``kiosk_id`` (24 h, single use)."""

    __tablename__ = "kiosk_enrolment_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class KioskDeviceToken(Base):
    """A tablet's credential (``hkd_<prefix>_<secret>``): shown once, kept as a keyed hash."""

    __tablename__ = "kiosk_device_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"), index=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
