"""Database engine, sessions and the per-request unit of work.

Write transactions on SQLite start with ``BEGIN IMMEDIATE`` (SQLite ignores ``FOR
UPDATE``; taking the write lock up front serialises writers instead of failing them
half-way); SQLite also runs in WAL mode with a busy timeout so readers never block.
On PostgreSQL, services take row locks (``with_for_update``) or use guarded
``UPDATE ... RETURNING``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql.dml import Insert

from app.errors import DomainError
from app.events import BUS_KEY, OUTBOX_WRITTEN, EventBus
from app.settings import Settings

log = logging.getLogger(__name__)

_AFTER_COMMIT = "happy_after_commit"


def on_commit(session: AsyncSession, action: Callable[[], Awaitable[None]]) -> None:
    """Run ``action`` once the surrounding unit of work has committed (e.g. send an SMS).

    Never runs when the transaction rolls back. Failures are logged, not raised: the
    data is already committed.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


async def _run_after_commit(session: AsyncSession) -> None:
    actions: list[Callable[[], Awaitable[None]]] = session.info.pop(_AFTER_COMMIT, [])
    for action in actions:
        try:
            await action()
        except Exception:
            log.exception("after-commit action failed")


def _install_sqlite_behaviour(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (below) emit BEGIN instead of the driver's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("happy_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@dataclass
class Database:
    """The engine and the two kinds of session the doors use."""

    engine: AsyncEngine
    write_sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
    # Subscribers to domain events published in this database's transactions (filled by
    # the assembly, app/main.py); every session carries it in ``session.info``.
    events: EventBus = field(default_factory=EventBus)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: commit at the end, or roll back entirely.

        A :class:`DomainError` with ``keep_changes`` commits what was flushed before it
        (a spent try of a one-time code) and is then re-raised for the door to render.
        """
        session = self.write_sessions()
        try:
            try:
                yield session
            except DomainError as exc:
                if exc.keep_changes:
                    await session.commit()
                    await self._after_commit(session)
                else:
                    await session.rollback()
                raise
            except BaseException:
                await session.rollback()
                raise
            else:
                await session.commit()
                await self._after_commit(session)
        finally:
            await session.close()

    async def _after_commit(self, session: AsyncSession) -> None:
        await _run_after_commit(session)
        if session.info.pop(OUTBOX_WRITTEN, False) and self.events.deliver is not None:
            try:
                await self.events.deliver()
            except Exception:
                log.exception("outbox delivery after commit failed")

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A short read-only session (query resolvers, DataLoader batches)."""
        session = self.read_sessions()
        try:
            yield session
        finally:
            await session.close()

    async def answers(self) -> bool:
        """Whether the database answers a trivial query now (readiness checks)."""
        try:
            async with self.read_session() as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            log.warning("database readiness check failed", exc_info=True)
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


def create_database(settings: Settings) -> Database:
    """Engine and session factories for ``settings.database_url``."""
    kwargs: dict[str, Any] = {"echo": settings.database_echo}
    if settings.is_sqlite:
        if ":memory:" in settings.database_url:
            raise ValueError("use a SQLite file: an in-memory database is one per connection")
        path = settings.database_url.split("///", 1)[-1]
        if path:
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs.update(
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_size * 2,
            pool_pre_ping=True,
        )
    engine = create_async_engine(settings.database_url, **kwargs)
    if settings.is_sqlite:
        _install_sqlite_behaviour(engine)
    write_engine = engine.execution_options(happy_write=True)
    events = EventBus()
    info = {BUS_KEY: events}
    return Database(
        engine=engine,
        write_sessions=async_sessionmaker(write_engine, expire_on_commit=False, info=info),
        read_sessions=async_sessionmaker(engine, expire_on_commit=False, info=info),
        events=events,
    )


def insert_ignoring_conflicts(
    session: AsyncSession, table: Any, values: dict[str, Any], conflict_columns: Iterable[str]
) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the session's dialect."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(table).values(**values).on_conflict_do_nothing(index_elements=list(conflict_columns))
    )


def upsert_increment(
    session: AsyncSession,
    table: Any,
    values: dict[str, Any],
    conflict_columns: Iterable[str],
    counter: str,
) -> Insert:
    """``INSERT ... ON CONFLICT DO UPDATE SET counter = counter + 1`` for the dialect."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(**values)
    column = table.c[counter] if hasattr(table, "c") else getattr(table, counter)
    return stmt.on_conflict_do_update(
        index_elements=list(conflict_columns), set_={counter: column + 1}
    )
