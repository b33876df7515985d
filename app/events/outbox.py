"""The durable outbox: after-commit work for event subscribers, one row per subscriber
and event, written in the transaction that published the event."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Enum, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a delivery until next_attempt_at (its lease)
    DONE = "done"
    DROPPED = "dropped"  # nothing to deliver to any more (device gone, object not saved)
    SUPERSEDED = "superseded"  # a newer row with the same coalesce key was delivered
    FAILED = "failed"  # gave up after the maximum number of attempts


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_messages_subscriber_coalesce_key", "subscriber", "coalesce_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    subscriber: Mapped[str] = mapped_column(String(60))
    event_type: Mapped[str] = mapped_column(String(60))
    payload: Mapped[str] = mapped_column(Text)
    coalesce_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(
            OutboxStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
