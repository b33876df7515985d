"""Domain events: in-transaction subscribers commit or roll back with the change;
after-commit subscribers run through the durable outbox, retried until done, also by a
process that did not write the row."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import clock, events
from app.db import Database
from app.errors import InvalidInput
from app.events.delivery import MAX_ATTEMPTS, Delivery, Undeliverable
from app.events.outbox import OutboxMessage, OutboxStatus
from app.ledger import service as ledger
from app.ledger.models import EntryKind, PointsEntry
from app.members.models import RegistrationChannel
from app.members.service import register
from app.runtime import build_runtime
from app.settings import Settings


async def _member(db: Database, settings: Settings, phone: str = "+355691112233") -> int:
    async with db.unit_of_work() as session:
        member, _ = await register(
            session,
            build_runtime(settings),
            phone_e164=phone,
            channel=RegistrationChannel.APP,
            language="en",
            now=clock.now(),
        )
        return member.id


async def _post(db: Database, member_id: int, delta: int) -> None:
    async with db.unit_of_work() as session:
        await ledger.post(
            session, member_id=member_id, kind=EntryKind.EARN, delta=delta, now=clock.now()
        )


async def _rows(db: Database) -> list[OutboxMessage]:
    async with db.read_session() as session:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        return list((await session.scalars(stmt)).all())


class Recorder:
    def __init__(self) -> None:
        self.seen: list[events.BalanceChanged] = []
        self.fail_with: Exception | None = None

    async def handle(self, event: events.BalanceChanged) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.seen.append(event)


async def test_every_event_survives_the_outbox_json() -> None:
    now = clock.now()
    for cls in (
        events.BalanceChanged,
        events.MemberRegistered,
        events.MemberProfileChanged,
        events.MemberDeleted,
        events.ReceiptAccepted,
        events.ReceiptRefunded,
        events.VoucherIssued,
        events.VoucherRedeemed,
    ):
        values: dict[str, object] = {}
        for n, field in enumerate(fields(cls)):
            if field.name == "at":
                values["at"] = now
            elif "tuple" in str(field.type):
                values[field.name] = ("a", "b") if "str" in str(field.type) else (1, 2)
            elif "str" in str(field.type):
                values[field.name] = f"text-{n}"
            else:
                values[field.name] = n
        event = cls(**values)  # type: ignore[arg-type]
        assert events.from_json(cls.__name__, events.to_json(event)) == event


async def test_in_transaction_subscribers_share_the_fate_of_the_change(
    db: Database, settings: Settings
) -> None:
    member_id = await _member(db, settings)
    seen: list[int] = []

    async def in_tx(session, event: events.BalanceChanged) -> None:  # type: ignore[no-untyped-def]
        # Runs inside the publisher's transaction: it sees the entry not yet committed.
        entry = await session.get(PointsEntry, event.entry_id)
        assert entry is not None and entry.delta == event.delta
        seen.append(event.balance)

    db.events.in_transaction(events.BalanceChanged, in_tx)
    await _post(db, member_id, 50)
    assert seen == [130]  # after the 80-point welcome bonus

    with pytest.raises(InvalidInput):
        async with db.unit_of_work() as session:
            await ledger.post(
                session, member_id=member_id, kind=EntryKind.EARN, delta=5, now=clock.now()
            )
            raise InvalidInput(field="anything")  # the change is rolled back ...
    assert seen == [130, 135]  # ... the handler ran, and what it wrote went with it
    async with db.read_session() as session:
        assert (await ledger.get_balance(session, member_id)).available == 130


async def test_after_commit_subscribers_run_once_committed_never_on_rollback(
    db: Database, settings: Settings
) -> None:
    member_id = await _member(db, settings)
    recorder = Recorder()
    db.events.after_commit(events.BalanceChanged, "test.recorder", recorder.handle)
    delivery = Delivery(db, db.events, in_background=False)
    db.events.deliver = delivery.kick

    await _post(db, member_id, 30)
    assert [e.balance for e in recorder.seen] == [110]
    [row] = await _rows(db)
    assert (row.subscriber, row.event_type, row.status) == (
        "test.recorder",
        "BalanceChanged",
        OutboxStatus.DONE,
    )

    with pytest.raises(InvalidInput):
        async with db.unit_of_work() as session:
            await ledger.post(
                session, member_id=member_id, kind=EntryKind.EARN, delta=5, now=clock.now()
            )
            raise InvalidInput(field="anything")
    assert len(await _rows(db)) == 1 and len(recorder.seen) == 1


async def test_failures_are_retried_with_backoff_and_survive_a_restart(
    db: Database, settings: Settings
) -> None:
    member_id = await _member(db, settings)
    recorder = Recorder()
    recorder.fail_with = ConnectionError("gateway down")
    db.events.after_commit(events.BalanceChanged, "test.recorder", recorder.handle)
    first = Delivery(db, db.events, in_background=False)
    db.events.deliver = first.kick

    await _post(db, member_id, 30)
    [row] = await _rows(db)
    assert row.status == OutboxStatus.PENDING and row.attempts == 1
    assert "gateway down" in (row.last_error or "")
    assert row.next_attempt_at > clock.now()  # backing off, not retried at once

    # Nothing is due before the back-off ends.
    assert (await first.run_once()).done == 0

    # "Restart": another process, another delivery object, same database and handlers.
    recorder.fail_with = None
    second = Delivery(db, db.events, in_background=False)
    report = await second.run_once(now=row.next_attempt_at + timedelta(seconds=1))
    assert report.done == 1
    assert [e.balance for e in recorder.seen] == [110]
    [row] = await _rows(db)
    assert row.status == OutboxStatus.DONE and row.done_at is not None


async def test_rows_for_one_key_coalesce_and_undeliverable_rows_are_dropped(
    db: Database, settings: Settings
) -> None:
    member_id = await _member(db, settings)
    recorder = Recorder()
    db.events.after_commit(
        events.BalanceChanged,
        "test.recorder",
        recorder.handle,
        coalesce=lambda e: f"member:{e.member_id}",
    )
    delivery = Delivery(db, db.events, in_background=False)
    for delta in (10, 20, 30):  # queued while nothing delivers
        await _post(db, member_id, delta)
    report = await delivery.run_once()
    assert (report.done, report.superseded) == (1, 2)
    assert [e.balance for e in recorder.seen] == [140]  # only the newest

    async def gone(event: events.BalanceChanged) -> None:
        raise Undeliverable("device gone")

    db.events.after_commit(events.BalanceChanged, "test.gone", gone)
    await _post(db, member_id, 1)
    await delivery.run_once()
    dropped = [r for r in await _rows(db) if r.subscriber == "test.gone"]
    assert [r.status for r in dropped] == [OutboxStatus.DROPPED]


async def test_a_row_that_never_succeeds_ends_failed(db: Database, settings: Settings) -> None:
    member_id = await _member(db, settings)
    recorder = Recorder()
    recorder.fail_with = RuntimeError("always")
    db.events.after_commit(events.BalanceChanged, "test.recorder", recorder.handle)
    delivery = Delivery(db, db.events, in_background=False)
    await _post(db, member_id, 5)
    moment = clock.now()
    for _ in range(MAX_ATTEMPTS):
        await delivery.run_once(now=moment)
        moment += timedelta(hours=7)  # past any back-off
    [row] = await _rows(db)
    assert row.status == OutboxStatus.FAILED and row.attempts == MAX_ATTEMPTS
    assert (await delivery.run_once(now=moment + timedelta(days=1))).failed == 0


async def test_a_condition_skips_the_row_in_the_transaction(
    db: Database, settings: Settings
) -> None:
    member_id = await _member(db, settings)
    recorder = Recorder()

    async def only_big(session, event: events.BalanceChanged) -> bool:  # type: ignore[no-untyped-def]
        return event.delta >= 100

    db.events.after_commit(events.BalanceChanged, "test.big", recorder.handle, when=only_big)
    await _post(db, member_id, 5)
    await _post(db, member_id, 500)
    async with db.read_session() as session:
        count = await session.scalar(select(func.count(OutboxMessage.id)))
    assert count == 1


async def test_one_subscriber_name_means_one_handler(db: Database) -> None:
    recorder, other = Recorder(), Recorder()
    db.events.after_commit(events.BalanceChanged, "test.same", recorder.handle)
    db.events.after_commit(events.MemberDeleted, "test.same", recorder.handle)  # same handler
    with pytest.raises(ValueError, match="taken"):
        db.events.after_commit(events.BalanceChanged, "test.same", other.handle)


async def test_a_delivery_whose_lease_ran_out_does_not_overwrite_the_next_one(
    db: Database, settings: Settings
) -> None:
    """A slow delivery loses its rows when its lease ends; its late outcome is dropped,
    so a row another delivery finished is not sent again."""
    import asyncio

    from app.events.delivery import LEASE

    member_id = await _member(db, settings)
    release, started = asyncio.Event(), asyncio.Event()
    calls: list[str] = []

    async def slow_then_failing(event: events.BalanceChanged) -> None:
        calls.append("slow")
        if len(calls) == 1:
            started.set()
            await release.wait()
            raise ConnectionError("gave up late")

    db.events.after_commit(events.BalanceChanged, "test.slow", slow_then_failing)
    first = Delivery(db, db.events, in_background=False)
    second = Delivery(db, db.events, in_background=False)
    await _post(db, member_id, 5)

    slow = asyncio.create_task(first.run_once())
    await started.wait()
    # The first delivery's lease has run out (as seen from the second one's clock).
    report = await second.run_once(now=clock.now() + LEASE + timedelta(seconds=5))
    assert report.done == 1
    release.set()
    late = await slow
    assert late.retrying == 0 and late.done == 0
    [row] = await _rows(db)
    assert row.status == OutboxStatus.DONE and row.attempts == 2
    assert (await first.run_once(now=clock.now() + timedelta(days=1))).done == 0
    assert calls == ["slow", "slow"]
