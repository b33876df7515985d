"""Where every ``happy`` command gets its database: :func:`open_database`, and only there."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from app.db import Database, create_database
from app.main import assemble
from app.runtime import build_runtime
from app.settings import Settings
from cli.errors import bad_database_url, unreachable_database

# How long a command waits for the database before it says it cannot reach it.
CONNECT_TIMEOUT_SECONDS = 10.0


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The database for one command, checked reachable before any work starts.

    The one place the CLI builds its database, through the app's assembly: postings made
    here publish the same events as requests (wallet tags move, deliveries are queued and
    run before the command ends; what fails stays in the outbox for the server to retry).
    """
    try:
        database = create_database(settings)
        runtime = build_runtime(settings)
        delivery = assemble(database, settings, runtime, in_background=False)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, sa_exc.InvalidRequestError) as exc:
        raise bad_database_url(settings.database_url, str(exc).splitlines()[0]) from exc
    except (ModuleNotFoundError, ValueError) as exc:
        raise bad_database_url(settings.database_url, str(exc)) from exc
    try:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                async with database.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except (sa_exc.DBAPIError, OSError, TimeoutError) as exc:
            raise unreachable_database(settings.database_url, exc) from exc
        yield database
    finally:
        await delivery.aclose()
        await runtime.wallet.aclose()
        await database.dispose()


def run(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    """Run ``work`` with the command's database on a fresh event loop; its exit code."""

    async def main() -> int:
        async with open_database(settings) as database:
            return await work(database)

    return asyncio.run(main())
