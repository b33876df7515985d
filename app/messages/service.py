"""Member messages: composing them (which channel, which text, when), push devices, the
way out of marketing, and what the operator and the member see of them.

Idempotency by constraint: a message is inserted with ``ON CONFLICT DO NOTHING`` on
``(member_id, kind, event_key, channel)``, so a subscriber that runs twice for one event
(the outbox is at-least-once) or a campaign job that runs twice in a day makes one
message. :mod:`app.messages.rules` holds the consent and quiet-hours rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import insert_ignoring_conflicts
from app.errors import Conflict, InvalidInput, NotFound
from app.events import MemberDeleted
from app.members import service as members
from app.members.models import MarketingChannel, MarketingConsent, Member, MemberStatus
from app.messages.links import Links
from app.messages.models import (
    Category,
    Channel,
    MemberMessage,
    MessageStatus,
    PushDevice,
    PushPlatform,
)
from app.messages.rules import QuietHours, Reachability, member_zone
from app.messages.templates import TEMPLATES, WAY_OUT, pick, render
from app.programme.service import get_programme
from app.settings import Settings


@dataclass(frozen=True)
class Composer:
    """What composing needs from the process: the quiet hours and the link signer."""

    settings: Settings
    links: Links

    @property
    def quiet_hours(self) -> QuietHours:
        return QuietHours.parse(self.settings.messages.quiet_hours)


async def reachability(session: AsyncSession, member: Member) -> Reachability:
    consents = await members.list_consents(session, member.id)
    devices = await session.scalar(
        select(func.count()).select_from(PushDevice).where(PushDevice.member_id == member.id)
    )
    return Reachability(
        has_phone=member.phone_e164 is not None,
        has_email=member.email is not None,
        has_push_device=bool(devices),
        consents={Channel(c.channel.value): c.granted for c in consents},
    )


def _recipient(member: Member, channel: Channel) -> str:
    if channel is Channel.EMAIL:
        return member.email or ""
    if channel is Channel.PUSH:
        return "devices"  # resolved at send time: the devices registered then
    return member.phone_e164 or ""


async def compose(
    session: AsyncSession,
    composer: Composer,
    *,
    member_id: int,
    kind: str,
    event_key: str,
    params: dict[str, str | int],
    now: datetime,
    channel: Channel | None = None,
    campaign_id: int | None = None,
) -> MemberMessage | None:
    """Queue message ``kind`` for the member once per ``event_key`` and channel.

    Transactional kinds go on the member's first usable channel; marketing kinds on
    ``channel`` only with consent (a campaign's target without it is recorded as
    ``opted_out``), delayed past quiet hours. Returns the queued message, or None when
    nothing is queued (no channel, not active, already queued for this event).
    """
    template = TEMPLATES[kind]
    member = await session.get(Member, member_id)
    if member is None or member.status != MemberStatus.ACTIVE:
        return None
    reach = await reachability(session, member)
    marketing = template.category is Category.MARKETING
    if marketing:
        if channel is None:
            raise ValueError("a marketing message needs its channel")
        allowed = reach.marketing_allowed(channel)
    else:
        channel = reach.transactional_channel()
        allowed = channel is not None
    if channel is None:
        return None
    language, subject, body = render(kind, member.language, params)
    if marketing:
        link = composer.links.unsubscribe_url(member.public_id, channel.value)
        body = f"{body}\n{WAY_OUT[pick(WAY_OUT, language)].format(link=link)}"
    send_at = now
    if marketing and allowed:
        programme = await get_programme(session)
        zone = member_zone(member.phone_e164, programme.timezone)
        send_at = composer.quiet_hours.next_allowed(now, zone)
    table = cast(Table, MemberMessage.__table__)
    values = {
        "member_id": member_id,
        "kind": kind,
        "event_key": event_key,
        "channel": channel,
        "category": template.category,
        "campaign_id": campaign_id,
        "language": language,
        "recipient": _recipient(member, channel) if allowed else None,
        "subject": subject if allowed else None,
        "body": body if allowed else None,
        "status": MessageStatus.PENDING if allowed else MessageStatus.OPTED_OUT,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": send_at,
    }
    if not allowed and campaign_id is None:
        return None
    inserted = await session.execute(
        insert_ignoring_conflicts(
            session, table, values, ("member_id", "kind", "event_key", "channel")
        ).returning(table.c.id)
    )
    message_id = inserted.scalar_one_or_none()
    if message_id is None or not allowed:
        return None
    return await session.get(MemberMessage, message_id)


# --- push devices ------------------------------------------------------------------------


async def register_push_device(
    session: AsyncSession, *, member_id: int, platform: PushPlatform, token: str, now: datetime
) -> PushDevice:
    """Remember the member's device (a token another member registered moves to this
    one: the phone changed hands or accounts)."""
    token = token.strip()
    if not (16 <= len(token) <= 512) or any(ch.isspace() or not ch.isprintable() for ch in token):
        raise InvalidInput(field="token")
    await members.get_member(session, member_id)
    device = await session.scalar(select(PushDevice).where(PushDevice.token == token))
    if device is None:
        device = PushDevice(member_id=member_id, platform=platform, token=token, created_at=now)
        session.add(device)
    else:
        device.member_id = member_id
        device.platform = platform
    await session.flush()
    return device


async def unregister_push_device(session: AsyncSession, *, member_id: int, token: str) -> bool:
    """Forget the member's device; False when it was not theirs (or not known)."""
    result = await session.execute(
        delete(PushDevice).where(PushDevice.member_id == member_id, PushDevice.token == token)
    )
    return bool(getattr(result, "rowcount", 0))


async def forget_push_tokens(session: AsyncSession, tokens: Sequence[str]) -> None:
    """Devices the providers call unregistered."""
    if tokens:
        await session.execute(delete(PushDevice).where(PushDevice.token.in_(list(tokens))))


async def push_devices_of(session: AsyncSession, member_ids: Sequence[int]) -> list[PushDevice]:
    stmt = select(PushDevice).where(PushDevice.member_id.in_(list(member_ids)))
    return list((await session.scalars(stmt.order_by(PushDevice.id))).all())


# --- members in control ------------------------------------------------------------------


async def erase_for_deleted_member(session: AsyncSession, event: MemberDeleted) -> None:
    """In the deleting transaction: queued messages and push tokens go; what was sent
    stays as anonymous counts for campaign statistics (no address, subject or text)."""
    await session.execute(
        delete(MemberMessage).where(
            MemberMessage.member_id == event.member_id,
            MemberMessage.status.in_([MessageStatus.PENDING, MessageStatus.SENDING]),
        )
    )
    await session.execute(
        update(MemberMessage)
        .where(MemberMessage.member_id == event.member_id)
        .values(recipient=None, subject=None, body=None)
    )
    await session.execute(delete(PushDevice).where(PushDevice.member_id == event.member_id))


async def withdraw_by_link(
    session: AsyncSession, links: Links, token: str, now: datetime
) -> MarketingChannel:
    """The way out of a marketing message: withdraw that channel's consent (the same
    rule as the member's ``setMarketingConsent``) and cancel marketing still queued."""
    found = links.read_unsubscribe(token)
    if found is None:
        raise NotFound(field="link")
    public_id, channel_name = found
    member = await session.scalar(
        select(Member).where(Member.public_id == public_id, Member.status == MemberStatus.ACTIVE)
    )
    if member is None:
        raise NotFound(field="link")
    channel = MarketingChannel(channel_name)
    await members.set_marketing_consent(
        session, member_id=member.id, channel=channel, granted=False, now=now
    )
    await cancel_queued_marketing(session, member.id, Channel(channel.value))
    return channel


async def cancel_queued_marketing(session: AsyncSession, member_id: int, channel: Channel) -> None:
    await session.execute(
        update(MemberMessage)
        .where(
            MemberMessage.member_id == member_id,
            MemberMessage.channel == channel,
            MemberMessage.category == Category.MARKETING,
            MemberMessage.status == MessageStatus.PENDING,
        )
        .values(status=MessageStatus.CANCELLED, last_error="consent withdrawn")
    )


async def mark_opened(session: AsyncSession, message_id: int, now: datetime) -> None:
    """The channel reported the message opened (email's pixel): the first time counts."""
    await session.execute(
        update(MemberMessage)
        .where(MemberMessage.id == message_id, MemberMessage.opened_at.is_(None))
        .values(opened_at=now)
    )


async def messages_of_member(session: AsyncSession, member_id: int) -> list[MemberMessage]:
    """Every message to the member, oldest first (the data export)."""
    stmt = select(MemberMessage).where(MemberMessage.member_id == member_id)
    return list((await session.scalars(stmt.order_by(MemberMessage.id))).all())


async def has_marketing_consent(session: AsyncSession, member_id: int, channel: Channel) -> bool:
    consent = await session.get(MarketingConsent, (member_id, MarketingChannel(channel.value)))
    return consent is not None and consent.granted


# --- the operator ------------------------------------------------------------------------


async def list_messages(
    session: AsyncSession, *, failed_only: bool, limit: int
) -> list[MemberMessage]:
    stmt = select(MemberMessage)
    if failed_only:
        stmt = stmt.where(MemberMessage.status == MessageStatus.FAILED)
    return list((await session.scalars(stmt.order_by(MemberMessage.id.desc()).limit(limit))).all())


async def retry_message(session: AsyncSession, message_id: int, now: datetime) -> MemberMessage:
    """Send a dead letter (or a cancelled message) again: attempts start over."""
    message = await session.get(MemberMessage, message_id)
    if message is None:
        raise NotFound(field="message")
    if message.status not in (MessageStatus.FAILED, MessageStatus.CANCELLED):
        raise Conflict(field="message", status=message.status.value)
    if message.body is None:
        raise Conflict(field="message", status="erased")
    message.status = MessageStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = now
    await session.flush()
    return message
