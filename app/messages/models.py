"""Member messages (one row per member, kind, event and channel), push devices,
campaigns and the scheduled jobs' guard rows."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Channel(enum.StrEnum):
    """Where a message goes (the same names as the marketing consent channels)."""

    SMS = "sms"
    VIBER = "viber"
    EMAIL = "email"
    PUSH = "push"


class Category(enum.StrEnum):
    TRANSACTIONAL = "transactional"  # about the member's own account: no consent needed
    MARKETING = "marketing"  # needs the channel's consent; never in quiet hours


class MessageStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a dispatcher until next_attempt_at (its lease)
    SENT = "sent"
    FAILED = "failed"  # dead letter: gave up after the maximum attempts (last_error says why)
    OPTED_OUT = "opted_out"  # a campaign's target without consent on its channel: not sent
    CANCELLED = "cancelled"  # consent withdrawn or account deleted before it was sent


class MemberMessage(Base):
    """One message to one member on one channel. ``(member_id, kind, event_key, channel)``
    is unique: the same event never makes two messages for one channel, however often its
    subscriber runs."""

    __tablename__ = "member_messages"
    __table_args__ = (
        UniqueConstraint("member_id", "kind", "event_key", "channel"),
        Index("ix_member_messages_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_member_messages_campaign_id", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    event_key: Mapped[str] = mapped_column(String(120))
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    category: Mapped[Category] = mapped_column(_enum(Category))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    language: Mapped[str] = mapped_column(String(2))
    # Address, subject and body are erased (NULL) when the member deletes the account.
    recipient: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(_enum(MessageStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    provider_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]

    @property
    def idempotency_key(self) -> str:
        """Sent to providers that take one, and kept by the recording backends: a
        retry after a crash between sending and recording is not a second message."""
        return f"happy-msg-{self.id}"


class PushPlatform(enum.StrEnum):
    ANDROID = "android"  # Firebase Cloud Messaging (HTTP v1)
    IOS = "ios"  # Apple Push Notification service


class PushDevice(Base):
    __tablename__ = "push_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    platform: Mapped[PushPlatform] = mapped_column(_enum(PushPlatform))
    token: Mapped[str] = mapped_column(String(512), unique=True)
    created_at: Mapped[datetime]


class CampaignStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"  # a scheduled (one-off) campaign after its send


class Campaign(Base):
    """A campaign: who (segment), what (template, optional bonus), which channel, when
    (a scheduled time or a built-in trigger). ``definition`` is the validated file."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    trigger: Mapped[str] = mapped_column(String(30))
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    template: Mapped[str] = mapped_column(String(40))
    definition: Mapped[str] = mapped_column(Text)  # the campaign file, as canonical JSON
    bonus_points: Mapped[int] = mapped_column(BigInteger, default=0)
    budget_points: Mapped[int | None] = mapped_column(BigInteger)
    spent_points: Mapped[int] = mapped_column(BigInteger, default=0)
    conversion_days: Mapped[int] = mapped_column(Integer)
    send_at: Mapped[datetime | None]
    status: Mapped[CampaignStatus] = mapped_column(_enum(CampaignStatus))
    created_at: Mapped[datetime]
    last_run_at: Mapped[datetime | None]


class ScheduledJob(Base):
    """One row per scheduled job: the guard that lets one worker run it at a time (a
    guarded UPDATE claims it until ``lease_until``) and when it is due next."""

    __tablename__ = "scheduled_jobs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_run_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    last_result: Mapped[str | None] = mapped_column(String(300))
