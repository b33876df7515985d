"""Kiosks (one tablet each, bound to a store), per-store kiosk rules, visits, check-ins."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class Kiosk(Base):
    """A tablet in a store. Its credentials (enrolment code, device token) are auth's; this
    row says which store it acts for and whether it may still act (``revoked_at``)."""

    __tablename__ = "kiosks"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    label: Mapped[str | None] = mapped_column(String(80))
    device_name: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    enrolled_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class KioskStoreRules(Base):
    """The kiosk rules of one store (programme data, ``happy kiosk rules``)."""

    __tablename__ = "kiosk_store_rules"
    __table_args__ = (
        CheckConstraint("check_in_points >= 0 AND plays_per_day >= 0", name="not_negative"),
    )

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    check_in_points: Mapped[int]
    plays_per_day: Mapped[int]
    # Keyed hash of the store's staff PIN (hand-over and cancel on the kiosk); None: unset.
    staff_pin_hash: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class KioskVisit(Base):
    """A member at a kiosk: a short-lived session bound to that kiosk, not a member session.

    Only the keyed hash of the session token is kept. It ends on ``endVisit`` or after the
    idle time (``HAPPY_KIOSK_VISIT_IDLE_SECONDS``) without a request.
    """

    __tablename__ = "kiosk_visits"
    __table_args__ = (Index("ix_kiosk_visits_kiosk_id_started_at", "kiosk_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    identified_by: Mapped[str] = mapped_column(String(10))  # card | phone
    is_new_member: Mapped[bool]
    started_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class CheckIn(Base):
    """One check-in bonus per member per store per programme day: the unique key decides."""

    __tablename__ = "kiosk_check_ins"
    __table_args__ = (UniqueConstraint("member_id", "store_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"))
    day: Mapped[date]
    points: Mapped[int]
    created_at: Mapped[datetime]
