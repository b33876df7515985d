"""review15: under PgBouncer in transaction pooling mode, reads run WITHOUT a transaction
(``single_read_connection``: the member lookup of every member request; ``single_read``:
DataLoader batches, receipt pages) fail under concurrency with ``prepared statement
"__happy_..." does not exist``: the asyncpg dialect prepares (Parse/Sync) and executes
(Bind/Execute/Sync) in two protocol round trips, and outside a transaction PgBouncer may
hand the second to another server connection. Inside a transaction (read_session) it is
fine. Run through .ci/pgbouncer (skipped otherwise)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import literal, select, text

from app.db import create_database
from app.settings import Settings
from tests.conftest import TEST_DATABASE_PGBOUNCER, requires_postgres, with_settings

pytestmark = pytest.mark.skipif(not TEST_DATABASE_PGBOUNCER, reason="needs .ci/pgbouncer")


@requires_postgres
@pytest.mark.parametrize("kind", ["single_read_connection", "single_read", "read_session"])
async def test_concurrent_reads_through_pgbouncer_do_not_fail(
    settings: Settings, kind: str
) -> None:
    db = create_database(with_settings(settings, database_pgbouncer=True, database_pool_size=10))
    errors: list[str] = []

    async def one(i: int) -> None:
        try:
            async with getattr(db, kind)() as conn:
                await conn.execute(select(literal(i) + 1, text("pg_sleep(0.001)")))
        except Exception as exc:  # counted
            errors.append(repr(exc)[:160])

    try:
        await asyncio.gather(*(one(i) for i in range(300)))
    finally:
        await db.dispose()
    assert errors == [], f"{len(errors)} of 300 failed, e.g. {errors[0]}"
