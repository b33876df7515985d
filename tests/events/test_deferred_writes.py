"""Deferred writes (app/deferred.py): sent at commit (one statement on PostgreSQL), never
when the transaction rolls back, at once inside a savepoint, and two modifications of one
table never share a statement."""

from __future__ import annotations

from typing import Any, cast

import pytest
from sqlalchemy import Table, event, insert, select, update
from sqlalchemy.engine import Connection

from app import clock, deferred
from app.db import Database
from app.errors import InvalidInput
from app.events.outbox import OutboxMessage, OutboxStatus

OUTBOX = cast(Table, OutboxMessage.__table__)


def _row(subscriber: str) -> dict[str, Any]:
    now = clock.now()
    return {
        "subscriber": subscriber,
        "event_type": "test",
        "payload": "{}",
        "coalesce_key": None,
        "status": OutboxStatus.DONE,
        "attempts": 0,
        "last_error": None,
        "created_at": now,
        "next_attempt_at": now,
        "done_at": now,
    }


async def _subscribers(db: Database) -> list[str]:
    async with db.read_session() as session:
        rows = await session.scalars(select(OutboxMessage.subscriber).order_by(OutboxMessage.id))
        return list(rows)


@pytest.fixture
def statements(db: Database) -> Any:
    seen: list[str] = []

    def record(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def test_deferred_writes_wait_for_the_commit(db: Database, statements: list[str]) -> None:
    async with db.unit_of_work() as session:
        await deferred.write(session, insert(OUTBOX), [_row("a"), _row("b")])
        await deferred.write(session, insert(OUTBOX), [_row("c")])
        assert deferred.pending(session) == 1  # one INSERT with three rows
        assert not any("outbox_messages" in s for s in statements)
        # Nothing was sent: the transaction cannot see them yet (the rule: only writes
        # nothing in the same transaction reads back are deferred).
        assert list(await session.scalars(select(OutboxMessage.id))) == []
    assert await _subscribers(db) == ["a", "b", "c"]
    sent = [s for s in statements if s.startswith(("INSERT", "UPDATE", "WITH"))]
    if db.dialect == "postgresql":
        assert len(sent) == 1 and sent[0].startswith("INSERT INTO outbox_messages"), sent
    else:
        assert len(sent) == 1, sent


async def test_a_rolled_back_transaction_sends_nothing_and_leaves_nothing_behind(
    db: Database,
) -> None:
    with pytest.raises(InvalidInput):
        async with db.unit_of_work() as session:
            await deferred.write(session, insert(OUTBOX), [_row("refused")])
            raise InvalidInput(field="x")
    # The same session object is not reused by the unit of work; a session that is (the
    # trace after a refusal) must not send the discarded writes either.
    session = db.write_sessions()
    try:
        await deferred.write(session, insert(OUTBOX), [_row("rolled back")])
        await session.rollback()
        assert deferred.pending(session) == 0
        await session.execute(insert(OUTBOX).values(**_row("after")))
        await session.commit()
    finally:
        await session.close()
    assert await _subscribers(db) == ["after"]


async def test_inside_a_savepoint_a_write_is_made_at_once_and_rolls_back_with_it(
    db: Database,
) -> None:
    async with db.unit_of_work() as session:
        await deferred.write(session, insert(OUTBOX), [_row("outer")])
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                await deferred.write(session, insert(OUTBOX), [_row("savepoint, undone")])
                assert deferred.pending(session) == 1  # only the outer one waits
                raise RuntimeError("undo the savepoint")
        async with session.begin_nested():
            await deferred.write(session, insert(OUTBOX), [_row("savepoint, kept")])
    assert sorted(await _subscribers(db)) == ["outer", "savepoint, kept"]


async def test_two_updates_of_one_table_are_not_one_statement(
    db: Database, statements: list[str]
) -> None:
    async with db.unit_of_work() as session:
        await session.execute(insert(OUTBOX).values(**_row("x")))
    statements.clear()
    async with db.unit_of_work() as session:
        await deferred.write(session, update(OUTBOX).values(attempts=OUTBOX.c.attempts + 1))
        await deferred.write(session, insert(OUTBOX), [_row("y")])
        await deferred.write(session, update(OUTBOX).values(attempts=OUTBOX.c.attempts + 10))
    async with db.read_session() as session:
        rows = (await session.execute(select(OUTBOX.c.subscriber, OUTBOX.c.attempts))).all()
    # In order: x got both increments, y (inserted between them) the second one.
    assert sorted(tuple(r) for r in rows) == [("x", 11), ("y", 10)]
    sent = [s for s in statements if s.startswith(("INSERT", "UPDATE", "WITH"))]
    assert len(sent) == 3, sent


async def test_writes_to_different_tables_are_one_statement_on_postgresql(
    db: Database, statements: list[str]
) -> None:
    from app.programme.models import Programme

    programmes = cast(Table, Programme.__table__)
    async with db.unit_of_work() as session:
        await deferred.write(session, update(programmes).values(name="Deferred"))
        await deferred.write(session, insert(OUTBOX), [_row("z")])
    sent = [s for s in statements if s.startswith(("INSERT", "UPDATE", "WITH"))]
    async with db.read_session() as session:
        assert await session.scalar(select(programmes.c.name)) == "Deferred"
    async with db.unit_of_work() as session:
        await session.execute(update(programmes).values(name="Happy"))
    assert await _subscribers(db) == ["z"]
    if db.dialect == "postgresql":
        assert len(sent) == 1 and sent[0].startswith("WITH deferred_0 AS (UPDATE"), sent
    else:
        assert len(sent) == 2, sent


async def test_rows_for_one_table_join_one_insert_in_order(
    db: Database, statements: list[str]
) -> None:
    async with db.unit_of_work() as session:
        for name in "abcdef":
            await deferred.write(session, insert(OUTBOX), [_row(name)])
        assert deferred.pending(session) == 1
    async with db.read_session() as session:
        ordered = await session.scalars(select(OutboxMessage.subscriber).order_by(OUTBOX.c.id))
        assert "".join(ordered) == "abcdef"


async def test_a_value_too_long_for_its_column_is_refused_not_cut_short(db: Database) -> None:
    from sqlalchemy.exc import DBAPIError

    if db.dialect != "postgresql":
        pytest.skip("SQLite does not enforce VARCHAR lengths")
    with pytest.raises(DBAPIError):
        async with db.unit_of_work() as session:
            await deferred.write(session, insert(OUTBOX), [_row("x" * 100)])  # VARCHAR(60)
    assert await _subscribers(db) == []
