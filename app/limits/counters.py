"""Request counters shared by every process through the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import upsert_increment
from app.errors import RateLimited
from app.limits.models import RateLimitCounter


async def hit(
    session: AsyncSession,
    *,
    scope: str,
    key: str,
    limit: int,
    window_seconds: int,
    now: datetime,
) -> None:
    """Count one request of ``scope`` by ``key``; raise :class:`RateLimited` past ``limit``.

    Fixed windows, incremented atomically (``INSERT ... ON CONFLICT DO UPDATE``).
    """
    epoch = int(now.timestamp())
    window_start = epoch - epoch % window_seconds
    table = RateLimitCounter.__table__
    stmt = upsert_increment(
        session,
        table,
        {"scope": scope, "key": key, "window_start": window_start, "count": 1},
        ("scope", "key", "window_start"),
        "count",
    ).returning(table.c.count)
    count = (await session.execute(stmt)).scalar_one()
    if count > limit:
        raise RateLimited(retry_after=max(1, window_start + window_seconds - epoch))


async def check(
    session: AsyncSession,
    *,
    scope: str,
    key: str,
    limit: int,
    window_seconds: int,
    now: datetime,
    field: str | None = None,
) -> None:
    """Raise :class:`RateLimited` when ``key`` already used up ``limit`` in this window,
    without counting: for limits on failures (count them with :func:`hit` on a miss)."""
    epoch = int(now.timestamp())
    window_start = epoch - epoch % window_seconds
    used = (
        await session.execute(
            select(func.coalesce(func.sum(RateLimitCounter.count), 0)).where(
                RateLimitCounter.scope == scope,
                RateLimitCounter.key == key,
                RateLimitCounter.window_start == window_start,
            )
        )
    ).scalar_one()
    if used >= limit:
        raise RateLimited(retry_after=max(1, window_start + window_seconds - epoch), field=field)
