"""Delivering the wallet outbox: APNs "pass changed" pushes and Google object PATCHes.

Rows are claimed in a short transaction (serialised: a transaction-scoped advisory lock on
PostgreSQL, the write lock on SQLite) by marking them ``sending`` with a lease in
``next_attempt_at``, sent outside any transaction, and their outcome recorded in a second
short transaction. So concurrent dispatchers (the after-commit kick of two requests,
``happy wallet push``) never send a row twice, and a crash mid-send only delays the row
until its lease ends.

One target (a device's push token, a Google object) is never sent to by two dispatchers at
once: a claim skips targets with a row in flight, and a dispatcher keeps claiming until
nothing is due, so the rows of one target go out in order. Rows for the same target are
coalesced: one push tells the device to fetch everything; the newest PATCH carries the
latest balance (a member's postings are serialised by the ledger's row lock, so a later
balance always has a larger row id).
APNs 410 (or ``Unregistered``/``BadDeviceToken``) removes the device's registrations; a
Google 404 means the member never saved the object: nothing to update, the row is dropped.
Other failures stay pending with ``attempts`` and a growing back-off, up to
``MAX_ATTEMPTS``, then ``failed``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.db import Database, on_commit
from app.settings import Settings
from app.wallet import service
from app.wallet.models import OutboxKind, OutboxStatus, WalletOutbox
from app.wallet.runtime import WalletRuntime
from wallet_passes.google import loyalty_object_patch, patch_request

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 12
BATCH = 200
MAX_ROUNDS = 20
_KICKED = "happy_wallet_kicked"
_CLAIM_LOCK = 0x57A11E7  # advisory lock key serialising claims on PostgreSQL


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at 6 hours."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


@dataclass
class DispatchReport:
    sent: int = 0
    dropped: int = 0
    superseded: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Outcome:
    status: OutboxStatus
    error: str | None = None


class Dispatcher:
    def __init__(self, db: Database, settings: Settings, wallet: WalletRuntime) -> None:
        self.db = db
        self.settings = settings
        self.wallet = wallet
        # Real network backends deliver in the background: a till's submitReceipt must not
        # wait for Apple's or Google's servers. The recording backends (development, tests)
        # deliver inline, so what a request queued is in the outbox file when it returns.
        self.in_background = settings.apns_backend == "http2" or (
            settings.google_wallet_backend == "rest"
        )
        self._tasks: set[asyncio.Task[DispatchReport]] = set()

    async def kick(self) -> None:
        """Deliver what is due after a commit: inline, or as a background task."""
        if not self.in_background:
            await self.drain()
            return
        task = asyncio.create_task(self.drain())
        self._tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[DispatchReport]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("wallet delivery failed", exc_info=task.exception())

    async def drain(self) -> DispatchReport:
        """Dispatch until nothing is due (or ``MAX_ROUNDS``); the after-commit delivery."""
        total = DispatchReport()
        for _ in range(MAX_ROUNDS):
            report = await self.run_once()
            for name in ("sent", "dropped", "superseded", "retrying", "failed"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            total.errors.extend(report.errors)
            if not (report.sent + report.dropped + report.superseded + report.retrying):
                break
            if report.failed or report.retrying:
                break
        return total

    async def run_once(self, now: datetime | None = None, limit: int = BATCH) -> DispatchReport:
        """Send every due row (up to ``limit``); return what happened."""
        now = now or clock.now()
        report = DispatchReport()
        claimed = await self._claim(now, limit)
        if not claimed:
            return report
        groups: dict[tuple[OutboxKind, str], list[WalletOutbox]] = defaultdict(list)
        for row in claimed:
            groups[(row.kind, row.target)].append(row)
        outcomes: dict[int, _Outcome] = {}
        dead_tokens: list[str] = []
        for (kind, target), rows in groups.items():
            newest = max(rows, key=lambda r: r.id)
            outcome = await self._send(kind, target, newest)
            if kind is OutboxKind.APNS and outcome.status is OutboxStatus.DROPPED:
                dead_tokens.append(target)
            for row in rows:
                if row.id != newest.id and outcome.status is OutboxStatus.SENT:
                    outcomes[row.id] = _Outcome(OutboxStatus.SUPERSEDED)
                else:
                    outcomes[row.id] = outcome
        await self._record(outcomes, dead_tokens, report)
        return report

    async def _claim(self, now: datetime, limit: int) -> list[WalletOutbox]:
        async with self.db.unit_of_work() as session:
            if self.db.dialect == "postgresql":
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CLAIM_LOCK}
                )
            in_flight = select(WalletOutbox.target).where(
                WalletOutbox.status == OutboxStatus.SENDING, WalletOutbox.next_attempt_at > now
            )
            stmt = (
                select(WalletOutbox)
                .where(
                    WalletOutbox.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                    WalletOutbox.next_attempt_at <= now,
                    WalletOutbox.target.not_in(in_flight),
                )
                .order_by(WalletOutbox.id)
                .limit(limit)
            )
            rows = list((await session.scalars(stmt)).all())
            for row in rows:
                row.status = OutboxStatus.SENDING
                row.attempts += 1
                row.next_attempt_at = now + LEASE
            await session.flush()
        return rows

    async def _send(self, kind: OutboxKind, target: str, row: WalletOutbox) -> _Outcome:
        try:
            if kind is OutboxKind.APNS:
                result = await self.wallet.apns.send(target, self.settings.apple_pass_type_id)
                if result.delivered:
                    return _Outcome(OutboxStatus.SENT)
                if result.unregistered:
                    return _Outcome(OutboxStatus.DROPPED, f"apns {result.status} {result.reason}")
                return _Outcome(OutboxStatus.PENDING, f"apns {result.status} {result.reason}")
            payload: dict[str, Any] = json.loads(row.payload)
            object_id, body = loyalty_object_patch(
                issuer_id=self.settings.google_issuer_id,
                object_suffix=target,
                balance=int(payload["balance"]),
                account_name=payload.get("accountName"),
            )
            status = await self.wallet.google.send(patch_request(object_id, body))
            if 200 <= status < 300:
                return _Outcome(OutboxStatus.SENT)
            if status == 404:
                return _Outcome(OutboxStatus.DROPPED, "google 404: object not saved")
            return _Outcome(OutboxStatus.PENDING, f"google {status}")
        except Exception as exc:  # a network error must not lose the row
            log.warning("wallet outbox row %s: %s", row.id, exc)
            return _Outcome(OutboxStatus.PENDING, f"{type(exc).__name__}: {exc}"[:300])

    async def _record(
        self, outcomes: dict[int, _Outcome], dead_tokens: list[str], report: DispatchReport
    ) -> None:
        now = clock.now()
        async with self.db.unit_of_work() as session:
            rows = (
                await session.scalars(select(WalletOutbox).where(WalletOutbox.id.in_(outcomes)))
            ).all()
            for row in rows:
                outcome = outcomes[row.id]
                row.last_error = outcome.error
                if outcome.status is OutboxStatus.PENDING:
                    row.status = OutboxStatus.PENDING
                    if row.attempts >= MAX_ATTEMPTS:
                        row.status = OutboxStatus.FAILED
                        report.failed += 1
                    else:
                        row.next_attempt_at = now + backoff(row.attempts)
                        report.retrying += 1
                    if outcome.error:
                        report.errors.append(outcome.error)
                    continue
                row.status = outcome.status
                if outcome.status is OutboxStatus.SENT:
                    row.sent_at = now
                    report.sent += 1
                elif outcome.status is OutboxStatus.SUPERSEDED:
                    report.superseded += 1
                else:
                    report.dropped += 1
            for token in dead_tokens:
                await service.remove_push_token(session, token)
            await session.flush()


# --- after-commit delivery ------------------------------------------------------------------
# ``ledger.post`` only has a session; the app registers its dispatcher for its database's
# connection pool, and a transaction that queued rows runs it once after it commits.

_dispatchers: WeakKeyDictionary[Any, Dispatcher] = WeakKeyDictionary()


def _pool_of(session: AsyncSession) -> Any:
    bind = session.get_bind()
    return bind.engine.pool if isinstance(bind, Connection) else bind.pool


def install(db: Database, settings: Settings, wallet: WalletRuntime) -> Dispatcher:
    """Make ``db``'s transactions that queue wallet rows dispatch them after commit."""
    dispatcher = Dispatcher(db, settings, wallet)
    _dispatchers[db.engine.sync_engine.pool] = dispatcher
    return dispatcher


def dispatcher_for(db: Database) -> Dispatcher | None:
    return _dispatchers.get(db.engine.sync_engine.pool)


def after_commit_with_wallet(
    session: AsyncSession, action: Callable[[WalletRuntime], Awaitable[None]]
) -> None:
    """Run ``action`` with this process's wallet runtime once the transaction commits
    (nothing happens in a process without the app: CLI, scripts)."""
    dispatcher = _dispatchers.get(_pool_of(session))
    if dispatcher is not None:
        wallet = dispatcher.wallet

        async def run() -> None:
            await action(wallet)

        on_commit(session, run)


def kick_after_commit(session: AsyncSession) -> None:
    """Dispatch the outbox once this session's transaction commits (once per transaction)."""
    if session.info.get(_KICKED):
        return
    dispatcher = _dispatchers.get(_pool_of(session))
    if dispatcher is None:
        return  # no app in this process (CLI, scripts): ``happy wallet push`` delivers

    async def deliver() -> None:
        session.info.pop(_KICKED, None)
        await dispatcher.kick()

    session.info[_KICKED] = True
    on_commit(session, deliver)
