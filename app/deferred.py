"""Writes whose results the transaction never reads again, sent together at commit.

A receipt's lines, its stored answer and the outbox rows of its events are written in the
receipt's transaction, but nothing later in that transaction reads them back. Sent one by
one they cost a round trip each; :func:`write` keeps them on the session instead, and just
before the transaction commits they go out:

* on PostgreSQL as **one** statement, each write a data-modifying CTE
  (``WITH w0 AS (INSERT ...), w1 AS (UPDATE ...) SELECT 1``): PostgreSQL runs every one of
  them to completion, atomically with the rest of the transaction;
* on SQLite one after the other (SQLite has no data-modifying CTEs; its round trips are
  in-process calls).

Rules, so that deferring never changes what a transaction does:

* Only writes nothing in the same transaction reads back may be deferred (the caller
  decides: see the call sites).
* Inside a savepoint (``begin_nested``) a write is executed at once: a savepoint rolled
  back must take its writes with it, and a released one has nothing left to send.
* A transaction that rolls back discards its deferred writes (never sent).
* Writes to one table never share a statement (PostgreSQL runs the parts of one
  statement in no set order, on one snapshot): rows deferred for a table join the
  table's last deferred INSERT when nothing else was deferred on that table since (one
  multi-row INSERT keeps their order), other writes to it go out in a statement of
  their own, in order.

The writes are sent from the session's ``before_commit`` event (every commit path: the
unit of work, the CLI, the worker), after the ORM's pending objects are flushed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, event, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.dml import Insert, UpdateBase

_KEY = "happy_deferred_writes"


@dataclass
class _Write:
    statement: UpdateBase
    rows: list[dict[str, Any]] | None = None  # a multi-row INSERT's rows, added to in order

    @property
    def table(self) -> str:
        table = self.statement.table
        return str(getattr(table, "name", table))

    def final(self) -> UpdateBase:
        if self.rows is None:
            return self.statement
        assert isinstance(self.statement, Insert)
        return self.statement.values(self.rows)


async def write(
    session: AsyncSession, statement: UpdateBase, rows: Sequence[dict[str, Any]] | None = None
) -> None:
    """Send ``statement`` (an INSERT, UPDATE or DELETE without RETURNING) before this
    transaction commits. ``rows``: the rows of a multi-row INSERT (as for an executemany);
    rows for a table that already has deferred rows (and nothing else deferred on that
    table since) join them, in order, in one INSERT."""
    if rows is not None:
        if not rows:
            return
        assert isinstance(statement, Insert), "rows are for an INSERT"
    entry = _Write(statement, None if rows is None else list(rows))
    if session.sync_session.in_nested_transaction():
        await session.execute(entry.final())
        return
    if not session.sync_session.in_transaction():
        # Tie the writes to a transaction (no SQL is sent): its end, commit or rollback,
        # is what sends or discards them.
        session.sync_session.begin()
    waiting: list[_Write] = session.info.setdefault(_KEY, [])
    last = next((w for w in reversed(waiting) if w.table == entry.table), None)
    if (
        entry.rows is not None
        and last is not None
        and last.rows is not None
        and type(statement) is Insert  # a plain INSERT: no ON CONFLICT, no RETURNING
        and last.statement.compare(statement)
        and set(last.rows[0]) == set(entry.rows[0])
    ):
        last.rows.extend(entry.rows)  # one INSERT keeps the rows' order (their ids)
        return
    waiting.append(entry)


def pending(session: AsyncSession | Session) -> int:
    """How many statements wait for the commit (tests)."""
    return len(session.info.get(_KEY, ()))


def _batches(writes: list[_Write]) -> list[list[_Write]]:
    """Consecutive writes that may share one statement, in order. A write to a table the
    batch already writes starts a new batch: PostgreSQL runs the parts of one statement
    in no set order and all on one snapshot (an UPDATE would not see the rows an INSERT
    before it added; two INSERTs' ids could interleave)."""
    batches: list[list[_Write]] = []
    tables: set[str] = set()
    for entry in writes:
        if not batches or entry.table in tables:
            batches.append([])
            tables = set()
        batches[-1].append(entry)
        tables.add(entry.table)
    return batches


def _send(session: Session) -> None:
    writes: list[_Write] | None = session.info.pop(_KEY, None)
    if not writes:
        return
    session.flush()  # pending ORM objects first: a deferred write may refer to them
    if session.get_bind().dialect.name != "postgresql":
        for entry in writes:
            session.execute(entry.final())
        return
    for batch in _batches(writes):
        if len(batch) == 1:
            session.execute(batch[0].final())
            continue
        combined: Select[Any] = select(literal_column("1")).add_cte(
            *(entry.final().cte(f"deferred_{n}") for n, entry in enumerate(batch))
        )
        session.execute(combined)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # Fires for the outermost commit and for a savepoint's release; writes are only ever
    # deferred at the outermost level, so sending them at either point is in the
    # transaction they belong to.
    _send(session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        # Committed: already sent. Rolled back: never to be sent.
        session.info.pop(_KEY, None)
