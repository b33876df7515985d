"""Points expiry: lots expire 12 months (programme setting) after they were earned.

``expire_points`` posts one EXPIRY entry per expired lot still holding points, with the
idempotency key ``expiry:lot:<id>``; the debit consumes lots oldest first, which are the
expired ones. Running it twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ledger import service as ledger
from app.ledger.models import EntryKind, PointsAccount, PointsLot

EXPIRING_SOON = timedelta(days=30)


async def members_with_expired_points(session: AsyncSession, now: datetime) -> list[int]:
    stmt = (
        select(PointsLot.member_id)
        .where(PointsLot.expires_at <= now, PointsLot.remaining > 0)
        .distinct()
        .order_by(PointsLot.member_id)
    )
    return list((await session.execute(stmt)).scalars())


async def expire_member_points(session: AsyncSession, member_id: int, now: datetime) -> int:
    """Expire what is left of the member's expired lots; the points taken away."""
    # Lock the account before the lots, in the same order as every posting (account
    # update, then lots), so an expiry run and a concurrent debit cannot deadlock.
    await session.execute(
        select(PointsAccount.member_id)
        .where(PointsAccount.member_id == member_id)
        .with_for_update()
    )
    stmt = (
        select(PointsLot)
        .where(
            PointsLot.member_id == member_id,
            PointsLot.expires_at <= now,
            PointsLot.remaining > 0,
        )
        .order_by(PointsLot.expires_at, PointsLot.id)
        .with_for_update()
    )
    lots = [
        (lot.id, lot.remaining, lot.expires_at) for lot in (await session.execute(stmt)).scalars()
    ]
    total = 0
    for lot_id, remaining, expires_at in lots:
        await ledger.post(
            session,
            member_id=member_id,
            kind=EntryKind.EXPIRY,
            delta=-remaining,
            now=now,
            reference_type="points_lot",
            reference_id=str(lot_id),
            description=f"Points earned until {expires_at.date().isoformat()} expired",
            idempotency_key=f"expiry:lot:{lot_id}",
        )
        total += remaining
    return total


@dataclass(frozen=True)
class ExpiringSoon:
    points: int
    date: date | None


async def expiring_soon(
    session: AsyncSession, member_ids: list[int], now: datetime, timezone: str
) -> dict[int, ExpiringSoon]:
    """Points expiring within 30 days per member, and the first date (programme zone)."""
    stmt = (
        select(
            PointsLot.member_id,
            func.sum(PointsLot.remaining),
            func.min(PointsLot.expires_at),
        )
        .where(
            PointsLot.member_id.in_(member_ids),
            PointsLot.remaining > 0,
            PointsLot.expires_at > now,
            PointsLot.expires_at <= now + EXPIRING_SOON,
        )
        .group_by(PointsLot.member_id)
    )
    zone = ZoneInfo(timezone)
    found: dict[int, ExpiringSoon] = {}
    for member_id, points, first in (await session.execute(stmt)).all():
        if isinstance(first, str):  # SQLite returns MIN() of a timestamp as text
            first = datetime.fromisoformat(first)
        if first.tzinfo is None:
            first = first.replace(tzinfo=UTC)
        found[member_id] = ExpiringSoon(int(points), first.astimezone(zone).date())
    return {m: found.get(m, ExpiringSoon(0, None)) for m in member_ids}
