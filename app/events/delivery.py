"""Delivering the outbox: running after-commit subscribers, with retries.

Rows are claimed in a short transaction (serialised: a transaction-scoped advisory lock
on PostgreSQL, the write lock on SQLite) by marking them ``sending`` with a lease in
``next_attempt_at``, handled outside any transaction, and their outcome recorded in a
second short transaction. So concurrent deliveries (the after-commit kick of two
requests, the periodic poll, ``happy outbox deliver``) never run a row twice at once, and
a crash mid-delivery only delays the row until its lease ends; rows left pending by a
stopped process are picked up by the next one.

Rows with the same (subscriber, coalesce key) are never handled by two deliveries at
once (a claim skips keys with a row in flight), and of several due rows only the newest
is handled (the others are ``superseded``): handlers read the current state.

A handler succeeds by returning, gives up for good with :class:`Undeliverable` (the row
is ``dropped``), and anything else it raises keeps the row pending with ``attempts`` and
a growing back-off, up to ``MAX_ATTEMPTS``, then ``failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, and_, exists, or_, select, text, update
from sqlalchemy.orm import aliased

from app import clock
from app.events import EventBus, from_json
from app.events.outbox import OutboxMessage, OutboxStatus

if TYPE_CHECKING:
    from app.db import Database

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 12
BATCH = 200
MAX_ROUNDS = 20
_CLAIM_LOCK = 0x0B0C5  # advisory lock key serialising claims on PostgreSQL


class Undeliverable(Exception):
    """Nothing to deliver to any more (device gone, object never saved): drop the row."""


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at 6 hours."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


@dataclass
class DeliveryReport:
    done: int = 0
    dropped: int = 0
    superseded: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        for name in ("done", "dropped", "superseded", "retrying", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)


@dataclass(frozen=True)
class _Outcome:
    status: OutboxStatus
    error: str | None = None


# The name of the background delivery task (tests tell its statements from a request's).
BACKGROUND_TASK_NAME = "happy-outbox-delivery"


class Delivery:
    """Runs the after-commit subscribers of ``bus`` for the rows in ``db``'s outbox."""

    def __init__(self, db: Database, bus: EventBus, *, in_background: bool) -> None:
        self.db = db
        self.bus = bus
        # Delivery runs in a background task after the answer: a till's request waits
        # neither for other servers (APNs, Google, SMS gateways) nor for the outbox's own
        # statements. Inline (``HAPPY_OUTBOX_DELIVER_INLINE``, tests) what a request queued
        # is delivered when it returns.
        self.in_background = in_background
        self._tasks: set[asyncio.Task[DeliveryReport]] = set()
        self._again = False

    async def kick(self) -> None:
        """Deliver what is due after a commit: inline, or as a background task (one at a
        time per process: a kick while one runs makes it go round once more)."""
        if not self.in_background:
            await self.drain()
            return
        if self._tasks:
            self._again = True
            return
        task = asyncio.create_task(self._drain_while_kicked(), name=BACKGROUND_TASK_NAME)
        self._tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(self._finished)

    async def _drain_while_kicked(self) -> DeliveryReport:
        total = DeliveryReport()
        while True:
            self._again = False
            total.add(await self.drain())
            if not self._again:
                return total

    def _finished(self, task: asyncio.Task[DeliveryReport]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox delivery failed", exc_info=task.exception())

    async def drain(self) -> DeliveryReport:
        """Deliver until nothing is due (or ``MAX_ROUNDS``, or something failed)."""
        total = DeliveryReport()
        for _ in range(MAX_ROUNDS):
            report = await self.run_once()
            total.add(report)
            if not (report.done + report.dropped + report.superseded + report.retrying):
                break
            if report.failed or report.retrying:
                break
        return total

    async def poll(self, interval_seconds: float) -> None:
        """Deliver what is due every ``interval_seconds`` (rows a crashed or stopped
        process left, retries whose back-off ended), until cancelled."""
        while True:
            try:
                await self.drain()
            except Exception as exc:
                if self.db.is_transport_failure(exc):
                    # The database dropped or refused connections: the next poll retries.
                    log.warning("outbox poll failed: database unavailable (%s)", exc)
                else:
                    log.exception("outbox poll failed")
            await asyncio.sleep(interval_seconds)

    async def aclose(self) -> None:
        """Wait briefly for background deliveries (unfinished rows stay in the outbox)."""
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=5)
            for task in pending:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    async def run_once(self, now: datetime | None = None, limit: int = BATCH) -> DeliveryReport:
        """Handle every due row (up to ``limit``); return what happened."""
        now = now or clock.now()
        report = DeliveryReport()
        claimed = await self._claim(now, limit)
        if not claimed:
            return report
        groups: dict[tuple[str, str], list[OutboxMessage]] = defaultdict(list)
        for row in claimed:
            key = row.coalesce_key if row.coalesce_key is not None else f"#row{row.id}"
            groups[(row.subscriber, key)].append(row)
        claims = {row.id: row.attempts for row in claimed}
        outcomes: dict[int, _Outcome] = {}
        for rows in groups.values():
            # The lease covered the claim; renew it for this group now, so a slow group
            # before it cannot let another delivery take these rows while they are handled.
            if not await self._renew(rows, claims):
                continue  # the lease ran out and another delivery has them now
            newest = max(rows, key=lambda r: r.id)
            outcome = await self._handle(newest)
            for row in rows:
                if row.id != newest.id and outcome.status is OutboxStatus.DONE:
                    outcomes[row.id] = _Outcome(OutboxStatus.SUPERSEDED)
                else:
                    outcomes[row.id] = outcome
        await self._record(outcomes, claims, report)
        return report

    async def _renew(self, rows: list[OutboxMessage], claims: dict[int, int]) -> bool:
        """Extend the lease of ``rows`` if they are still this delivery's claim."""
        table = cast(Table, OutboxMessage.__table__)
        mine = or_(*(and_(table.c.id == r.id, table.c.attempts == claims[r.id]) for r in rows))
        async with self.db.unit_of_work() as session:
            result = await session.execute(
                update(table)
                .where(mine, table.c.status == OutboxStatus.SENDING.value)
                .values(next_attempt_at=clock.now() + LEASE)
            )
            renewed = int(getattr(result, "rowcount", 0) or 0)
        return renewed == len(rows)

    async def _claim(self, now: datetime, limit: int) -> list[OutboxMessage]:
        async with self.db.unit_of_work() as session:
            if self.db.dialect == "postgresql":
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CLAIM_LOCK}
                )
            in_flight = aliased(OutboxMessage)
            busy = exists().where(
                and_(
                    in_flight.subscriber == OutboxMessage.subscriber,
                    in_flight.coalesce_key == OutboxMessage.coalesce_key,
                    in_flight.status == OutboxStatus.SENDING,
                    in_flight.next_attempt_at > now,
                )
            )
            stmt = (
                select(OutboxMessage)
                .where(
                    OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                    OutboxMessage.next_attempt_at <= now,
                    OutboxMessage.coalesce_key.is_(None) | ~busy,
                )
                .order_by(OutboxMessage.id)
                .limit(limit)
            )
            rows = list((await session.scalars(stmt)).all())
            for row in rows:
                row.status = OutboxStatus.SENDING
                row.attempts += 1
                row.next_attempt_at = now + LEASE
            await session.flush()
        return rows

    async def _handle(self, row: OutboxMessage) -> _Outcome:
        subscriber = self.bus.subscriber(row.subscriber)
        if subscriber is None:
            return _Outcome(OutboxStatus.PENDING, f"no subscriber {row.subscriber!r} here")
        try:
            event = from_json(row.event_type, row.payload)
            await subscriber.handler(event)
        except Undeliverable as exc:
            return _Outcome(OutboxStatus.DROPPED, str(exc)[:300] or "undeliverable")
        except Exception as exc:  # a network error must not lose the row
            log.warning("outbox row %s (%s): %s", row.id, row.subscriber, exc)
            return _Outcome(OutboxStatus.PENDING, f"{type(exc).__name__}: {exc}"[:300])
        return _Outcome(OutboxStatus.DONE)

    async def _record(
        self, outcomes: dict[int, _Outcome], claims: dict[int, int], report: DeliveryReport
    ) -> None:
        now = clock.now()
        async with self.db.unit_of_work() as session:
            rows = (
                await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.id.in_(list(outcomes)))
                )
            ).all()
            for row in rows:
                if row.status is not OutboxStatus.SENDING or row.attempts != claims[row.id]:
                    continue  # no longer this delivery's claim: its outcome is not ours to write
                outcome = outcomes[row.id]
                row.last_error = outcome.error
                if outcome.status is OutboxStatus.PENDING:
                    if row.attempts >= MAX_ATTEMPTS:
                        row.status = OutboxStatus.FAILED
                        report.failed += 1
                    else:
                        row.status = OutboxStatus.PENDING
                        row.next_attempt_at = now + backoff(row.attempts)
                        report.retrying += 1
                    if outcome.error:
                        report.errors.append(outcome.error)
                    continue
                row.status = outcome.status
                if outcome.status is OutboxStatus.DONE:
                    row.done_at = now
                    report.done += 1
                elif outcome.status is OutboxStatus.SUPERSEDED:
                    row.done_at = now
                    report.superseded += 1
                else:
                    report.dropped += 1
            await session.flush()
