"""Wallet passes issued for member cards, the devices that hold them, and the push outbox.

A ``wallet_passes`` row exists once a member asked for a wallet artefact of their card (QR
link, Apple pass, Google save link). Its serial number is random and opaque; the Apple
authentication token is derived from it with a server key (nothing secret is stored).
``updated_at`` is the pass's update tag: whole seconds, strictly increasing per pass.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class OutboxKind(enum.StrEnum):
    APNS = "apns"  # "pass changed" push to one device
    GOOGLE_PATCH = "google_patch"  # loyalty object PATCH (balance)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a dispatcher until next_attempt_at (its lease)
    SENT = "sent"
    DROPPED = "dropped"  # nothing to deliver to any more (410 from APNs, object not saved)
    SUPERSEDED = "superseded"  # a newer row for the same target was sent instead
    FAILED = "failed"  # gave up after the maximum number of attempts


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class WalletPass(Base):
    __tablename__ = "wallet_passes"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), unique=True)
    # The hot path (every balance change) looks passes up by member: one indexed query.
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    serial_number: Mapped[str] = mapped_column(String(40), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WalletDeviceRegistration(Base):
    __tablename__ = "wallet_device_registrations"
    __table_args__ = (
        UniqueConstraint(
            "device_library_id",
            "pass_type_id",
            "pass_id",
            name="uq_wallet_device_registrations_device_pass",
        ),
        Index("ix_wallet_device_registrations_pass_id", "pass_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_library_id: Mapped[str] = mapped_column(String(128))
    pass_type_id: Mapped[str] = mapped_column(String(128))
    pass_id: Mapped[int] = mapped_column(ForeignKey("wallet_passes.id", ondelete="CASCADE"))
    push_token: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WalletOutbox(Base):
    __tablename__ = "wallet_outbox"
    __table_args__ = (
        Index("ix_wallet_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(_enum(OutboxKind))
    pass_id: Mapped[int] = mapped_column(ForeignKey("wallet_passes.id", ondelete="CASCADE"))
    # APNs: the device's push token; Google: the loyalty object id. Rows with the same
    # (kind, target) are coalesced by the dispatcher.
    target: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
