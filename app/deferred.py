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
from typing import Any, cast

from sqlalchemy import (
    Enum,
    Select,
    String,
    Table,
    bindparam,
    event,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql
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

    @property
    def unnests(self) -> bool:
        """On PostgreSQL, a plain INSERT's rows go in as one array per column
        (:func:`_unnest_insert`)."""
        return self.rows is not None and type(self.statement) is Insert

    def final(self) -> UpdateBase:
        if self.rows is None:
            return self.statement
        assert isinstance(self.statement, Insert)
        return self.statement.values(self.rows)

    def final_postgresql(self) -> tuple[UpdateBase, dict[str, Any]]:
        """The statement and its parameters on PostgreSQL: rows of a plain INSERT as
        ``INSERT ... SELECT ... FROM unnest($1::type[], ...)``, one statement per table
        and set of columns whatever the number of rows, so SQLAlchemy compiles it once
        (a multi-row VALUES statement is compiled anew every time, about a millisecond
        of CPU for a receipt's lines and outbox row), and with one parameter per column."""
        if not self.unnests:
            return self.final(), {}
        assert self.rows is not None
        table = self.statement.table
        columns = tuple(self.rows[0])
        statement = _unnest_insert(cast(Table, table), columns)
        return statement, {
            _array_name(cast(Table, table), c): [row[c] for row in self.rows] for c in columns
        }


_UNNEST_INSERTS: dict[tuple[str, tuple[str, ...]], Insert] = {}


def array_item_type(column: Any) -> Any:
    """The column's type for an unnest array, strings without their length: a cast to
    ``varchar(n)[]`` cuts a longer value short, while the insert into the column refuses
    it ("value too long"), as a plain INSERT does."""
    kind = column.type
    if isinstance(kind, String) and not isinstance(kind, Enum) and kind.length is not None:
        return String()
    return kind


def _array_name(table: Table, column: str) -> str:
    return f"deferred_{table.name}_{column}"


def _unnest_insert(table: Table, columns: tuple[str, ...]) -> Insert:
    key = (table.name, columns)
    statement = _UNNEST_INSERTS.get(key)
    if statement is None:
        arrays = [
            bindparam(_array_name(table, c), type_=postgresql.ARRAY(array_item_type(table.c[c])))
            for c in columns
        ]
        rows = func.unnest(*arrays).table_valued(*columns).render_derived()
        statement = insert(table).from_select(list(columns), select(*(rows.c[c] for c in columns)))
        _UNNEST_INSERTS[key] = statement
    return statement


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


# Bind parameters per statement: asyncpg refuses more than 32,767; well under it.
MAX_PARAMETERS = 30_000
_STATEMENT_PARAMETERS = 100  # what a single (non multi-row) write is counted as


def _parameters(entry: _Write, on_postgresql: bool = False) -> int:
    if entry.rows is None:
        return _STATEMENT_PARAMETERS
    if on_postgresql and entry.unnests:
        return len(entry.rows[0])  # one array per column
    return len(entry.rows) * max(1, len(entry.rows[0]))


def _chunked(writes: list[_Write], on_postgresql: bool) -> list[_Write]:
    """Multi-row INSERTs split, in order, into INSERTs of at most MAX_PARAMETERS
    parameters (a nightly job that publishes thousands of events)."""
    chunked: list[_Write] = []
    for entry in writes:
        if entry.rows is None or _parameters(entry, on_postgresql) <= MAX_PARAMETERS:
            chunked.append(entry)
            continue
        size = max(1, MAX_PARAMETERS // max(1, len(entry.rows[0])))
        for start in range(0, len(entry.rows), size):
            chunked.append(_Write(entry.statement, entry.rows[start : start + size]))
    return chunked


def _batches(writes: list[_Write]) -> list[list[_Write]]:
    """Consecutive writes that may share one statement, in order. A write to a table the
    batch already writes starts a new batch: PostgreSQL runs the parts of one statement
    in no set order and all on one snapshot (an UPDATE would not see the rows an INSERT
    before it added; two INSERTs' ids could interleave). So does a write that would take
    the batch past MAX_PARAMETERS."""
    batches: list[list[_Write]] = []
    tables: set[str] = set()
    parameters = 0
    for entry in writes:
        size = _parameters(entry, on_postgresql=True)
        if not batches or entry.table in tables or parameters + size > MAX_PARAMETERS:
            batches.append([])
            tables = set()
            parameters = 0
        batches[-1].append(entry)
        tables.add(entry.table)
        parameters += size
    return batches


def _send(session: Session) -> None:
    writes: list[_Write] | None = session.info.pop(_KEY, None)
    if not writes:
        return
    session.flush()  # pending ORM objects first: a deferred write may refer to them
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    writes = _chunked(writes, on_postgresql)
    if not on_postgresql:
        for entry in writes:
            session.execute(entry.final())
        return
    for batch in _batches(writes):
        parts = [entry.final_postgresql() for entry in batch]
        if len(parts) == 1:
            session.execute(*parts[0])
            continue
        parameters: dict[str, Any] = {}
        for _, values in parts:
            parameters.update(values)  # names are per table: a batch has one write a table
        combined: Select[Any] = select(literal_column("1")).add_cte(
            *(statement.cte(f"deferred_{n}") for n, (statement, _) in enumerate(parts))
        )
        session.execute(combined, parameters)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # Fires for the outermost commit and for a savepoint's release too. The writes wait
    # for the outermost commit: sent at a savepoint's release they would be inside it,
    # and an enclosing savepoint rolled back later would take them along (the session
    # releases open savepoints before the outermost commit, so this one is outermost).
    if session.in_nested_transaction():
        return
    _send(session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        # Committed: already sent. Rolled back: never to be sent.
        session.info.pop(_KEY, None)
