"""Alembic environment: async engine, every model registered, batch mode for SQLite."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Connection

import app.models  # noqa: F401  (registers every table on Base.metadata)
from alembic import context
from app.base import Base
from app.db import create_database
from app.settings import get_settings

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("database_url") or get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    from dataclasses import replace

    db = create_database(replace(get_settings(), database_url=_url()))
    async with db.engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await db.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
