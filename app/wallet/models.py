"""Wallet passes issued for member cards and the devices that hold them.

A ``wallet_passes`` row exists once a member asked for a wallet artefact of their card (QR
link, Apple pass, Google save link). Its serial number is random and opaque; the Apple
authentication token is derived from it with a server key (nothing secret is stored).
``updated_at`` is the pass's update tag: whole seconds, strictly increasing per pass.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


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
