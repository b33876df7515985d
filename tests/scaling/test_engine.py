"""Engine creation (issue 15): no pre-ping round trip on checkout, connections recycled, dead
pooled connections replaced at checkout or answered SERVICE_UNAVAILABLE once, PgBouncer's
transaction pooling mode without prepared statements kept across transactions."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine

from app import db as app_db
from app.db import Database, create_database
from app.settings import Settings
from tests.conftest import TEST_DATABASE_URL, requires_postgres, with_settings
from tests.helpers import ME
from tests.pos.conftest import Member

ME_QUERY = {"query": ME}


async def _end_other_sessions() -> set[int]:
    """End every other session on the test database from a connection of its own."""
    engine = create_async_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return {pid for pid, done in rows if done}
    finally:
        await engine.dispose()


def _statements(db: Database) -> list[str]:
    seen: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _seen(_c: Any, _cur: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    return seen


@requires_postgres
def test_the_postgres_engine_does_not_ping_and_recycles(settings: Settings) -> None:
    db = create_database(with_settings(settings, database_pool_recycle_seconds=600))
    pool: Any = db.engine.pool
    assert pool._pre_ping is False
    assert pool._recycle == 600


async def _me(client: httpx.AsyncClient, member: Member) -> httpx.Response:
    return await client.post(
        "/graphql", json=ME_QUERY, headers={"Authorization": f"Bearer {member.token}"}
    )


def _ok(response: httpx.Response) -> bool:
    return response.status_code == 200 and "errors" not in response.json()


def _unavailable(response: httpx.Response) -> bool:
    body = response.json()
    codes = {e["extensions"]["code"] for e in body.get("errors", [])}
    return response.status_code == 503 and codes == {"SERVICE_UNAVAILABLE"}


@requires_postgres
async def test_a_request_checks_out_no_ping_round_trip(
    client: httpx.AsyncClient, member: Member, db: Database
) -> None:
    assert _ok(await _me(client, member))
    seen = _statements(db)
    assert _ok(await _me(client, member))
    assert seen and not any(s.strip().lower() in {"select 1", ";"} for s in seen), seen


@requires_postgres
async def test_pooled_connections_ended_by_the_server_are_replaced_at_checkout(
    client: httpx.AsyncClient, member: Member, db: Database
) -> None:
    """The server ended every pooled connection while they sat idle: asyncpg noticed (the
    server says goodbye on the socket), so checkout refuses them and opens new ones; the
    next request simply works."""
    assert _ok(await _me(client, member))
    async with db.engine.connect() as conn:
        before = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    ended = await _end_other_sessions()
    assert before in ended
    await asyncio.sleep(0.3)  # the event loop reads the goodbye on the idle sockets
    assert _ok(await _me(client, member))
    async with db.engine.connect() as conn:
        after = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    assert after not in ended


@requires_postgres
async def test_a_connection_ended_unnoticed_fails_once_as_retryable_then_recovers(
    client: httpx.AsyncClient, member: Member, db: Database, monkeypatch: Any
) -> None:
    """Ended while asyncpg could not have noticed yet (checked in without its goodbye
    read): the request using it gets a clean, retryable SERVICE_UNAVAILABLE or works (the
    pool replaced it); the request after that works."""
    assert _ok(await _me(client, member))
    # Make checkout blind to the closed state, as when the goodbye is still in flight.
    monkeypatch.setattr(app_db, "_known_closed", lambda _connection: False)
    await _end_other_sessions()
    await asyncio.sleep(0.3)
    first = await _me(client, member)
    assert _ok(first) or _unavailable(first), first.text
    monkeypatch.undo()
    second = await _me(client, member)
    assert _ok(second), second.text


async def _kept_statements(db: Database) -> list[str]:
    """The earlier statements still prepared on the pooled connection (pool of one)."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT statement FROM pg_prepared_statements "
                "WHERE statement NOT LIKE '%pg_prepared_statements%' ORDER BY statement"
            )
        )
        return [statement for (statement,) in rows if "1 +" in statement]


@requires_postgres
async def test_the_pgbouncer_setting_keeps_no_prepared_statement_between_transactions(
    settings: Settings,
) -> None:
    """Under PgBouncer in transaction mode the next transaction may run on another server
    connection: nothing prepared may be kept by name (docs/scaling.md)."""
    db = create_database(with_settings(settings, database_pgbouncer=True, database_pool_size=1))
    try:
        for _ in range(3):
            async with db.read_session() as session:
                assert (await session.execute(text("SELECT 1 + :n"), {"n": 1})).scalar() == 2
        assert await _kept_statements(db) == []
    finally:
        await db.dispose()
    # The default caches prepared statements on the connection.
    plain = create_database(with_settings(settings, database_pool_size=1))
    try:
        for _ in range(2):
            async with plain.read_session() as session:
                await session.execute(text("SELECT 1 + :n"), {"n": 1})
        assert await _kept_statements(plain) == ["SELECT 1 + $1"]
    finally:
        await plain.dispose()
