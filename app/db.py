"""Database engine, sessions and the per-request unit of work.

Write transactions on SQLite start with ``BEGIN IMMEDIATE`` (SQLite ignores ``FOR
UPDATE``; taking the write lock up front serialises writers instead of failing them
half-way); SQLite also runs in WAL mode with a busy timeout so readers never block.
On PostgreSQL, services take row locks (``with_for_update``) or use guarded
``UPDATE ... RETURNING``.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql.dml import Insert

from app import deferred  # noqa: F401  (its commit hook sends the deferred writes)
from app.errors import DomainError
from app.events import BUS_KEY, OUTBOX_WRITTEN, EventBus
from app.settings import Settings

log = logging.getLogger(__name__)

_AFTER_COMMIT = "happy_after_commit"
_AFTER_COMMIT_TASKS: set[asyncio.Future[None]] = set()


def on_commit(session: AsyncSession, action: Callable[[], Awaitable[None]]) -> None:
    """Run ``action`` once the surrounding unit of work has committed (e.g. send an SMS).

    Never runs when the transaction rolls back. Failures are logged, not raised: the
    data is already committed.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


async def drain_after_commit(seconds: float) -> int:
    """Wait (at most ``seconds``) for after-commit work still running, e.g. when
    the server shuts down after the requests that owed it were answered or cut off.
    Returns how many were still unfinished at the deadline (logged)."""
    pending = list(_AFTER_COMMIT_TASKS)
    if not pending:
        return 0
    _done, unfinished = await asyncio.wait(pending, timeout=seconds)
    if unfinished:
        log.warning("shutdown: %d after-commit actions unfinished", len(unfinished))
    return len(unfinished)


async def _run_after_commit(session: AsyncSession) -> None:
    actions: list[Callable[[], Awaitable[None]]] = session.info.pop(_AFTER_COMMIT, [])
    for action in actions:
        try:
            await action()
        except Exception:
            log.exception("after-commit action failed")


# SQLSTATE classes and codes after which the same request may simply be sent again:
# 08 connection exception, 53 insufficient resources (too many connections...), 57P
# operator intervention (pg_terminate_backend, shutdown, starting up), 40001 serialization
# failure, 40P01 deadlock (the transaction was rolled back entirely).
_RETRYABLE_SQLSTATE_PREFIXES = ("08", "53", "57P", "40001", "40P01")
_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ENETDOWN,
    errno.ETIMEDOUT,
    errno.EPIPE,
}
# Driver "interface" errors are mostly misuse (a bug); these words mean the connection went.
_CLOSED_CONNECTION = ("connection is closed", "connection was closed", "connection lost")
# SQLite calls its programming errors "OperationalError" too; these are not retryable.
_SQLITE_PROGRAMMING_ERRORS = ("no such ", "syntax error", "has no column", "already exists")


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps (``orig`` of SQLAlchemy errors, causes and contexts)."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or any(current is s for s in seen) or len(seen) > 20:
            continue
        seen.append(current)
        orig = getattr(current, "orig", None)
        pending.extend(
            [
                orig if isinstance(orig, BaseException) else None,
                current.__cause__,
                current.__context__,
            ]
        )
    return seen


def _is_transport_failure(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True  # the pool timed out waiting for a connection, or a ping failed
    if isinstance(exc, sa_exc.OperationalError):
        message = str(exc.orig if exc.orig is not None else exc).lower()
        return not any(p in message for p in _SQLITE_PROGRAMMING_ERRORS)
    if isinstance(exc, sa_exc.InterfaceError):
        message = str(exc.orig if exc.orig is not None else exc).lower()
        return any(word in message for word in _CLOSED_CONNECTION)
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(_RETRYABLE_SQLSTATE_PREFIXES):
        return True
    if type(exc).__name__ == "ConnectionDoesNotExistError":  # asyncpg, not imported here
        return True
    if type(exc).__module__.startswith("asyncpg") and any(
        word in str(exc).lower() for word in _CLOSED_CONNECTION
    ):
        return True
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True
    return isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS


def is_transport_failure(exc: BaseException) -> bool:
    """True when ``exc`` means the database (or the way to it) failed, not the request.

    A dropped, refused or reset connection, a pool timeout, the server terminating the
    session or shutting down, a serialization failure or deadlock: the transaction did not
    commit (or, for a lost COMMIT, its effect is idempotent by constraint), so the same
    request can be sent again. The doors answer SERVICE_UNAVAILABLE for these instead of an
    internal error. The engine recovers by itself: an invalidated connection is discarded,
    and dead idle ones are replaced on checkout (:func:`_install_postgres_behaviour`).
    """
    return any(_is_transport_failure(e) for e in _causes(exc))


def log_loop_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """An event-loop exception handler: a database transport failure nobody awaited
    (asyncpg's "Future exception was never retrieved ... unexpected connection_lost()" when
    the server drops connections) is a WARNING without a traceback; anything else goes to
    asyncio's default handler (an ERROR with its traceback)."""
    exc = context.get("exception")
    if isinstance(exc, BaseException) and is_transport_failure(exc):
        log.warning(
            "database connection lost: %s (%s: %s)",
            context.get("message", "unretrieved exception"),
            type(exc).__name__,
            exc,
        )
        return
    loop.default_exception_handler(context)


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
    # Sessions on the read replica (HAPPY_DATABASE_REPLICA_URL); None: the primary.
    replica_sessions: async_sessionmaker[AsyncSession] | None = None
    # One-statement reads without a transaction (autocommit) on PostgreSQL. Off behind
    # PgBouncer in transaction mode: asyncpg prepares and then runs a statement in two
    # exchanges, which PgBouncer (before 1.21) may hand to two server connections outside a
    # transaction ("prepared statement ... does not exist"); inside one they stay together.
    autocommit_reads: bool = True

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @staticmethod
    def is_transport_failure(exc: BaseException) -> bool:
        """:func:`is_transport_failure`, for modules that hold a Database only."""
        return is_transport_failure(exc)

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
                    await self._after_commit_shielded(session)
                else:
                    await session.rollback()
                    if exc.after_rollback is not None:
                        await self._record_after_rollback(session, exc)
                raise
            except BaseException:
                await session.rollback()
                raise
            else:
                await session.commit()
                await self._after_commit_shielded(session)
        finally:
            await session.close()

    async def _record_after_rollback(self, session: AsyncSession, exc: DomainError) -> None:
        """The trace a refusal leaves (``DomainError.after_rollback``), in a transaction of
        its own after the refused one rolled back; a failure here is logged, and the
        refusal is still the answer."""
        assert exc.after_rollback is not None
        try:
            await exc.after_rollback(session)
            await session.commit()
        except Exception:
            log.exception("recording after a refusal failed")
            await session.rollback()

    async def _after_commit_shielded(self, session: AsyncSession) -> None:
        """The after-commit work, not cancelled with the request: past the request's time
        budget the answer (504) goes out and the work, already owed to committed data,
        finishes on its own (kept referenced until it does)."""
        task = asyncio.ensure_future(self._after_commit(session))
        _AFTER_COMMIT_TASKS.add(task)
        task.add_done_callback(_AFTER_COMMIT_TASKS.discard)
        await asyncio.shield(task)

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

    @asynccontextmanager
    async def single_read(self) -> AsyncIterator[AsyncSession]:
        """A read session without a transaction, for a read that is one statement (a
        DataLoader batch, the caller's lookup): on PostgreSQL its connection is in
        autocommit, so no BEGIN/ROLLBACK pair rides along (two round trips saved). Each
        statement sees its own snapshot: reads of several statements that must agree use
        :meth:`read_session`. On SQLite it is a :meth:`read_session` (a local BEGIN costs
        no round trip)."""
        session = self._single_reads()
        try:
            yield session
        finally:
            await session.close()

    @asynccontextmanager
    async def replica_session(self) -> AsyncIterator[AsyncSession]:
        """A read session for reads that tolerate replication lag (receipt history, the
        coalition directory): on the replica when one is configured, else the primary.

        Never for what the caller just wrote or must see current (balances, anything read
        to decide a write): those stay on :meth:`read_session` (docs/scaling.md)."""
        if self.replica_sessions is None:
            async with self.single_read() as session:
                yield session
            return
        session = self.replica_sessions()
        try:
            yield session
        finally:
            await session.close()

    @asynccontextmanager
    async def replica_connection(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection like :meth:`replica_session` (the replica when configured,
        else the primary; without a transaction on PostgreSQL): history pages read as plain
        rows."""
        if self.replica_sessions is None:
            async with self.single_read_connection() as connection:
                yield connection
            return
        async with self._replica_read_engine.connect() as connection:
            yield connection

    @functools.cached_property
    def _replica_read_engine(self) -> AsyncEngine:
        assert self.replica_sessions is not None
        bind = self.replica_sessions.kw.get("bind")
        assert isinstance(bind, AsyncEngine)
        if bind.dialect.name == "postgresql":
            return bind.execution_options(isolation_level="AUTOCOMMIT")
        return bind

    @asynccontextmanager
    async def single_read_connection(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection like :meth:`single_read` (autocommit on PostgreSQL): no ORM
        session for the hottest one-statement reads."""
        async with self._single_read_engine.connect() as connection:
            yield connection

    @functools.cached_property
    def _single_read_engine(self) -> AsyncEngine:
        bind = self.read_sessions.kw.get("bind") or self.engine
        assert isinstance(bind, AsyncEngine)
        if bind.dialect.name == "postgresql" and self.autocommit_reads:
            return bind.execution_options(isolation_level="AUTOCOMMIT")
        return bind

    @functools.cached_property
    def _single_reads(self) -> async_sessionmaker[AsyncSession]:
        if self._single_read_engine.dialect.name != "postgresql" or not self.autocommit_reads:
            return self.read_sessions
        return async_sessionmaker(
            self._single_read_engine,
            expire_on_commit=False,
            info=self.read_sessions.kw.get("info"),
        )

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
        if self.replica_sessions is not None:
            bind = self.replica_sessions.kw.get("bind")
            if isinstance(bind, AsyncEngine):
                await bind.dispose()


def _install_postgres_behaviour(engine: AsyncEngine) -> None:
    """Dead pooled connections are found without a round trip.

    ``pool_pre_ping`` would send a query on every checkout. Instead: a connection whose
    server went away (``pg_terminate_backend``, a PostgreSQL or PgBouncer restart) is
    usually already known closed to asyncpg, which reads the server's goodbye (or EOF) on
    the idle socket; such a connection is refused at checkout and replaced (the pool retries
    with a new one). One that dies unnoticed fails on its first statement: SQLAlchemy
    recognises the disconnect, invalidates that connection and every one pooled before it,
    and the door answers SERVICE_UNAVAILABLE (retryable); the next request gets fresh
    connections. ``pool_recycle`` bounds how old a pooled connection gets.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if _known_closed(dbapi_connection):
            raise sa_exc.DisconnectionError("pooled connection closed by the server")

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # asyncpg learns the array types it does not know (their codecs) with an
        # introspection query, four round trips, the first time each connection meets
        # them. The deferred writes and the fraud counters send arrays on every receipt
        # (app/deferred.py): learn them when the connection opens, not on a request.
        dbapi_connection.run_async(
            lambda connection: connection.fetchval(ARRAY_TYPES, None, None, None, None)
        )


# One parameter of each array type Happy sends (unnest inserts).
ARRAY_TYPES = (
    "SELECT $1::int4[] IS NULL AND $2::int8[] IS NULL AND $3::varchar[] IS NULL "
    "AND $4::timestamptz[] IS NULL"
)


def _known_closed(dbapi_connection: Any) -> bool:
    """Whether the driver already knows the connection is gone (no round trip)."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    is_closed = getattr(driver, "is_closed", None)
    return bool(callable(is_closed) and is_closed())


def _pgbouncer_connect_args() -> dict[str, Any]:
    """asyncpg under PgBouncer in transaction pooling mode (docs/scaling.md).

    Consecutive transactions of one client connection may run on different server
    connections, and PgBouncer before 1.21 (Debian 12 ships 1.18) does not carry prepared
    statements over: no statement cache in asyncpg nor in SQLAlchemy's dialect, and
    unique names for the statements the dialect prepares, so a name never collides with
    one another client left on the same server connection."""
    return {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": lambda: f"__happy_{uuid.uuid4().hex}__",
    }


def _engine(url: str, settings: Settings) -> AsyncEngine:
    kwargs: dict[str, Any] = {"echo": settings.database_echo}
    if url.startswith("sqlite"):
        if ":memory:" in url:
            raise ValueError("use a SQLite file: an in-memory database is one per connection")
        path = url.split("///", 1)[-1]
        if path:
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
    else:
        # Every connection the pool may open (3 x HAPPY_DATABASE_POOL_SIZE) is kept once
        # opened: with overflow connections, a burst past the pooled ones closed them again
        # at check-in and opened new ones (TLS attempt, authentication, codec setup) at the
        # next burst, about a third of a millisecond per request under steady load.
        kwargs.update(
            pool_size=settings.database_pool_size * 3,
            max_overflow=0,
            pool_recycle=settings.database_pool_recycle_seconds,
        )
        if settings.database_pgbouncer:
            kwargs["connect_args"] = _pgbouncer_connect_args()
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _install_sqlite_behaviour(engine)
    else:
        _install_postgres_behaviour(engine)
    return engine


def create_database(settings: Settings) -> Database:
    """Engine and session factories for ``settings.database_url`` (and, when set, a second
    engine for ``settings.database_replica_url``: :meth:`Database.replica_session`)."""
    engine = _engine(settings.database_url, settings)
    write_engine = engine.execution_options(happy_write=True)
    events = EventBus()
    info = {BUS_KEY: events}
    replica_sessions = None
    if settings.database_replica_url:
        replica_sessions = async_sessionmaker(
            _engine(settings.database_replica_url, settings), expire_on_commit=False, info=info
        )
    return Database(
        engine=engine,
        write_sessions=async_sessionmaker(write_engine, expire_on_commit=False, info=info),
        read_sessions=async_sessionmaker(engine, expire_on_commit=False, info=info),
        events=events,
        replica_sessions=replica_sessions,
        autocommit_reads=not settings.database_pgbouncer,
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
