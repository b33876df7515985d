"""Reading and changing the programme's rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock, programme_cache
from app.errors import InvalidInput
from app.programme.models import Programme

DEFAULTS: dict[str, Any] = {
    "name": "Happy",
    "welcome_bonus_points": 80,
    "points_expiry_months": 12,
    "timezone": "Europe/Tirane",
    "default_language": "sq",
    "card_prefix": "7001",
    "point_value_micro_eur": 4800,
}

EDITABLE = {
    "name",
    "welcome_bonus_points",
    "points_expiry_months",
    "timezone",
    "card_prefix",
    "redemption_confirmation_eur",
    "point_value_micro_eur",
    "limits_version",
}
# The demo's redemption confirmation threshold: level 2 vouchers (9.60 EUR) and more.
DEMO_REDEMPTION_CONFIRMATION_EUR = 960


async def get_programme(session: AsyncSession) -> Programme:
    """The programme's settings (read them: a detached copy, cached per process, see
    :mod:`app.programme_cache`); the row is created with the defaults on first use."""
    return await programme_cache.cached(session, "programme", lambda: _load(session))


async def current_programme(session: AsyncSession) -> Programme:
    """The programme row as it is now (one primary-key read, not this process's cached copy):
    for decisions an operator's change must reach at once, such as whether a redemption
    needs the member's code or which limits a redemption counts against. Read it, never
    change it (changes go through :func:`update_programme`)."""
    programme = await session.get(Programme, 1)
    if programme is None:
        return await get_programme(session)
    return programme


async def _load(session: AsyncSession) -> Programme:
    programme = await session.get(Programme, 1)
    if programme is None:
        programme_cache.changed(session)
        programme = Programme(id=1, updated_at=clock.now(), **DEFAULTS)
        session.add(programme)
        await session.flush()
        return programme
    return programme_cache.detached_copy(programme)


def points_expire_at(programme: Programme, earned_at: datetime) -> datetime:
    """When points earned at ``earned_at`` expire: ``points_expiry_months`` calendar months
    later (a month's last day when the day does not exist: 31 Mar + 1 month = 30 Apr)."""
    expires: datetime = earned_at + relativedelta(months=programme.points_expiry_months)
    return expires


async def programme_for_update(session: AsyncSession) -> Programme:
    """The programme's row in this session, locked, for a writer to change (what
    :func:`get_programme` returns is a detached copy: a change to it is never saved); this
    process's caches are emptied, and again after the commit."""
    programme_cache.changed(session)
    return (
        await session.execute(select(Programme).where(Programme.id == 1).with_for_update())
    ).scalar_one_or_none() or await get_programme(session)


async def update_programme(session: AsyncSession, **changes: Any) -> Programme:
    """Change programme rules (operator CLI)."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise InvalidInput(field=sorted(unknown)[0])
    programme = await programme_for_update(session)
    for key, value in changes.items():
        if key == "point_value_micro_eur" and int(value) <= 0:
            raise InvalidInput(field=key)
        if key in {"welcome_bonus_points", "points_expiry_months"} and int(value) < 0:
            raise InvalidInput(field=key)
        if key == "redemption_confirmation_eur" and value is not None and int(value) < 1:
            raise InvalidInput(field=key)
        setattr(programme, key, value)
    programme.updated_at = clock.now()
    await session.flush()
    return programme
