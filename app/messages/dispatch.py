"""Delivering member messages: at least once, never twice at once, nothing lost.

A dispatcher claims due messages in a short transaction (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several workers share the queue without waiting on each other; SQLite
serialises writers anyway), marking them ``sending`` with a lease in
``next_attempt_at``. Each message is then sent outside any transaction with its
idempotency key, and its outcome recorded at once in its own short transaction, guarded
by the attempt number it was claimed with. A worker killed mid-batch leaves its claimed
messages ``sending``; when the lease ends another claim takes them again (the providers,
and the recording backends, recognise the idempotency key of one already sent).

A failed send is retried with exponential back-off and jitter; after
``HAPPY_MESSAGES_MAX_ATTEMPTS`` (or at once for a :class:`PermanentFailure`) the message
is a dead letter: ``failed`` with the last error, listed by ``happy messages list
--failed`` and sent again by ``happy messages retry ID``.

Just before sending, marketing is checked again: consent withdrawn meanwhile cancels it,
quiet hours that began meanwhile delay it.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from app import clock
from app.members.models import Member
from app.messages import service
from app.messages.channels import (
    ChannelBackend,
    LivePushChannel,
    OutgoingMessage,
    PermanentFailure,
    PushTarget,
)
from app.messages.models import Category, Channel, MemberMessage, MessageStatus
from app.messages.rules import member_zone
from app.programme.service import get_programme

if TYPE_CHECKING:
    from app.db import Database

log = logging.getLogger(__name__)

BATCH = 100
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 6 * 3600


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at 6 h, each with jitter (half to all of it), so
    messages that failed together do not all come back together."""
    ceiling = min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
    return timedelta(seconds=ceiling * (rng or random).uniform(0.5, 1.0))


@dataclass
class DispatchReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    delayed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.cancelled + self.delayed


@dataclass(frozen=True)
class _Claimed:
    message_id: int
    attempts: int
    outgoing: OutgoingMessage


class Dispatcher:
    """Sends due member messages from ``db`` through ``channels``."""

    def __init__(
        self,
        db: Database,
        channels: dict[Channel, ChannelBackend],
        composer: service.Composer,
        *,
        send_inline: bool,
    ) -> None:
        self.db = db
        self.channels = channels
        self.composer = composer
        self.settings = composer.settings.messages
        self.send_inline = send_inline

    async def kick(self) -> None:
        """Send what is due now when the channels only record (development, tests), so a
        request's messages are in the files when it returns. With real providers the
        ``happy worker`` sends: a request never waits on an SMS gateway."""
        if self.send_inline:
            await self.drain()

    async def drain(self, max_rounds: int = 20) -> DispatchReport:
        total = DispatchReport()
        for _ in range(max_rounds):
            report = await self.run_once()
            for name in ("sent", "retrying", "failed", "cancelled", "delayed"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            total.errors.extend(report.errors)
            if report.handled < BATCH:
                break
        return total

    async def aclose(self) -> None:
        """Close the channels' connections."""
        for backend in self.channels.values():
            await backend.aclose()

    async def run_once(self, limit: int = BATCH) -> DispatchReport:
        """Claim up to ``limit`` due messages and send them, recording each outcome."""
        report = DispatchReport()
        claimed = await self._claim(clock.now(), limit, report)
        for item in claimed:
            await self._send(item, report)
        return report

    async def _claim(self, now: datetime, limit: int, report: DispatchReport) -> list[_Claimed]:
        lease = timedelta(seconds=self.settings.lease_seconds)
        async with self.db.unit_of_work() as session:
            stmt = (
                select(MemberMessage)
                .where(
                    MemberMessage.status.in_([MessageStatus.PENDING, MessageStatus.SENDING]),
                    MemberMessage.next_attempt_at <= now,
                )
                .order_by(MemberMessage.next_attempt_at, MemberMessage.id)
                .limit(limit)
            )
            if self.db.dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            rows = list((await session.scalars(stmt)).all())
            if not rows:
                return []
            member_ids = {row.member_id for row in rows}
            people = {
                m.id: m
                for m in await session.scalars(select(Member).where(Member.id.in_(member_ids)))
            }
            devices: dict[int, list[PushTarget]] = defaultdict(list)
            for device in await service.push_devices_of(session, list(member_ids)):
                devices[device.member_id].append(PushTarget(device.platform, device.token))
            programme_zone = (await get_programme(session)).timezone
            quiet = self.composer.quiet_hours
            claimed = []
            for row in rows:
                if row.category is Category.MARKETING:
                    if not await service.has_marketing_consent(session, row.member_id, row.channel):
                        row.status = MessageStatus.CANCELLED
                        row.last_error = "consent withdrawn"
                        report.cancelled += 1
                        continue
                    member = people.get(row.member_id)
                    zone = member_zone(member.phone_e164 if member else None, programme_zone)
                    allowed_at = quiet.next_allowed(now, zone)
                    if allowed_at > now:
                        row.status = MessageStatus.PENDING
                        row.next_attempt_at = allowed_at
                        report.delayed += 1
                        continue
                if row.recipient is None or row.body is None:  # erased meanwhile
                    row.status = MessageStatus.CANCELLED
                    report.cancelled += 1
                    continue
                row.status = MessageStatus.SENDING
                row.attempts += 1
                row.next_attempt_at = now + lease
                member = people.get(row.member_id)
                unsubscribe = None
                if row.category is Category.MARKETING and member is not None:
                    unsubscribe = self.composer.links.unsubscribe_url(
                        member.public_id, row.channel.value
                    )
                claimed.append(
                    _Claimed(
                        row.id,
                        row.attempts,
                        OutgoingMessage(
                            idempotency_key=row.idempotency_key,
                            channel=row.channel,
                            kind=row.kind,
                            category=row.category,
                            recipient=row.recipient,
                            subject=row.subject or "",
                            body=row.body,
                            unsubscribe_url=unsubscribe,
                            open_url=(
                                self.composer.links.open_url(row.id)
                                if row.channel is Channel.EMAIL
                                else None
                            ),
                            push_targets=tuple(devices.get(row.member_id, ())),
                        ),
                    )
                )
            await session.flush()
        return claimed

    async def _still_mine(self, item: _Claimed) -> bool:
        """Renew the message's lease right before sending it, if it is still this worker's
        claim; a batch slower than its lease never sends a message twice."""
        async with self.db.unit_of_work() as session:
            result = await session.execute(
                update(MemberMessage)
                .where(
                    MemberMessage.id == item.message_id,
                    MemberMessage.status == MessageStatus.SENDING,
                    MemberMessage.attempts == item.attempts,
                )
                .values(
                    next_attempt_at=clock.now() + timedelta(seconds=self.settings.lease_seconds)
                )
            )
            return int(getattr(result, "rowcount", 0) or 0) == 1

    async def _send(self, item: _Claimed, report: DispatchReport) -> None:
        backend = self.channels[item.outgoing.channel]
        if not await self._still_mine(item):
            return  # the lease ran out and another worker has it now: it sends, not us
        status = MessageStatus.SENT
        error: str | None = None
        provider_id: str | None = None
        try:
            provider_id = await backend.send(item.outgoing)
        except PermanentFailure as exc:
            status, error = MessageStatus.FAILED, f"refused: {exc}"[:300]
        except Exception as exc:  # a provider's outage must not lose the message
            log.warning("message %s (%s): %s", item.message_id, item.outgoing.channel, exc)
            error = f"{type(exc).__name__}: {exc}"[:300]
            status = (
                MessageStatus.FAILED
                if item.attempts >= self.settings.max_attempts
                else MessageStatus.PENDING
            )
        now = clock.now()
        values: dict[str, object] = {"status": status, "last_error": error}
        if status is MessageStatus.SENT:
            values.update(sent_at=now, provider_id=(provider_id or None))
            report.sent += 1
        elif status is MessageStatus.PENDING:
            values["next_attempt_at"] = now + backoff(item.attempts)
            report.retrying += 1
        else:
            report.failed += 1
        if error:
            report.errors.append(f"message {item.message_id}: {error}")
        async with self.db.unit_of_work() as session:
            # Only if it is still ours: a lease that ran out let another worker take it.
            await session.execute(
                update(MemberMessage)
                .where(
                    MemberMessage.id == item.message_id,
                    MemberMessage.status == MessageStatus.SENDING,
                    MemberMessage.attempts == item.attempts,
                )
                .values(**values)
            )
            if isinstance(backend, LivePushChannel) and backend.gone:
                await service.forget_push_tokens(session, backend.gone)
                backend.gone.clear()
