"""Limits that are programme rules: what one caller may try before it is stopped.

A :class:`Limit` names a scope, how many attempts a key gets and in what window. Limits
on *failures* (unknown phone numbers a till looks up, voucher codes that do not exist)
are checked before the attempt (:func:`ensure_left`, which counts nothing) and counted
only when the attempt fails (:func:`count_failure`), so honest traffic never uses them
up. The counters themselves are in :mod:`app.limits.counters`. Fraud limits on points
and redemptions will live beside these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.callers import Channel, StoreCaller
from app.limits import counters


@dataclass(frozen=True)
class Limit:
    scope: str
    attempts: int
    window_seconds: int
    field: str | None = None


# A till (or kiosk) cannot use phone lookups to find out which numbers are members.
PHONE_PROBES = Limit("partner_phone_miss", attempts=30, window_seconds=60 * 60, field="phone")
# Scanned cards (partner `member(scan)`) that lead to no member: a key cannot walk card
# numbers to find members (issue 14).
CARD_SCAN_MISSES = Limit("partner_card_miss", attempts=30, window_seconds=60 * 60, field="scan")
# Voucher codes are unguessable; a caller trying codes that don't exist is stopped.
VOUCHER_CODE_GUESSES = Limit("voucher_code_miss", attempts=20, window_seconds=15 * 60, field="code")


async def ensure_left(
    session: AsyncSession, limit: Limit, caller: StoreCaller, now: datetime
) -> None:
    """Raise ``RateLimited`` when the caller already used up ``limit`` in this window.

    The operator (local access to the database, e.g. importing a till's offline file) is
    not limited: these limits stop remote callers from learning what they may not see."""
    if caller.channel is Channel.OPERATOR:
        return
    await counters.check(
        session,
        scope=limit.scope,
        key=caller.limit_key,
        limit=limit.attempts,
        window_seconds=limit.window_seconds,
        now=now,
        field=limit.field,
    )


async def count_failure(
    session: AsyncSession, limit: Limit, caller: StoreCaller, now: datetime
) -> None:
    """Count one failed attempt against the caller (raises once past the limit)."""
    if caller.channel is Channel.OPERATOR:
        return
    await counters.hit(
        session,
        scope=limit.scope,
        key=caller.limit_key,
        limit=limit.attempts,
        window_seconds=limit.window_seconds,
        now=now,
    )
