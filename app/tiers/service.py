"""Tiers: which card level a member holds, moving up on the receipt that crosses the line,
and the periodic review that moves people down.

Rules (programme data, ``happy tier set``):
- A member qualifies for the highest tier whose ``threshold`` is at most the points they
  earned in the last 12 months net of returns: ``earn`` and ``offer_bonus`` ledger entries
  minus ``reversal`` entries dated in the window (welcome bonus, check-ins, game prizes and
  adjustments do not count: a tier rewards spending at partners).
- **Up** in the transaction of the receipt that crosses the threshold (an in-transaction
  subscriber to ``ReceiptAccepted``, so offline batches move members up too); the new
  tier's earn bonus applies from the next receipt.
- **Kept** until the end of its period (``kept_until``: 12 months after reaching it or
  after the last review that confirmed it), whatever happens to the points meanwhile.
- **Down** only at the review (``happy tiers review``, nightly): a member whose period has
  ended and who no longer qualifies moves to the tier they qualify for now; one who still
  qualifies keeps the tier for another period.
Every move publishes ``TierChanged`` (wallet passes show the tier).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from dateutil.relativedelta import relativedelta
from sqlalchemy import Table, column, delete, func, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from app import events, programme_cache
from app.db import insert_ignoring_conflicts
from app.errors import InvalidInput, NotFound
from app.ledger.models import EntryKind, PointsEntry
from app.members.models import Member, MemberStatus
from app.tiers.models import MemberTier, Tier

WINDOW_MONTHS = 12
PERIOD_MONTHS = 12
QUALIFYING_KINDS = (EntryKind.EARN, EntryKind.OFFER_BONUS, EntryKind.REVERSAL)
MAX_TIER_BONUS_PCT = 1000


@dataclass(frozen=True)
class TierRule:
    """A tier as the rules read it (plain values, safe outside a session)."""

    id: int
    code: str
    name: str
    threshold: int
    earn_bonus_pct: int
    background_colour: str | None
    foreground_colour: str | None
    label_colour: str | None

    @classmethod
    def of(cls, tier: Tier) -> TierRule:
        return cls(
            tier.id,
            tier.code,
            tier.name,
            tier.threshold,
            tier.earn_bonus_pct,
            tier.background_colour,
            tier.foreground_colour,
            tier.label_colour,
        )


async def list_tiers(session: AsyncSession) -> list[TierRule]:
    """Every tier, lowest threshold first (cached per process: :mod:`app.programme_cache`)."""
    return list(await programme_cache.cached(session, "tiers", lambda: _tiers(session)))


async def _tiers(session: AsyncSession) -> tuple[TierRule, ...]:
    rows = await session.scalars(select(Tier).order_by(Tier.threshold, Tier.id))
    return tuple(TierRule.of(tier) for tier in rows)


def _check_colour(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    text = value.strip()
    inner = text.removeprefix("rgb(").removesuffix(")")
    parts = inner.split(",")
    if not text.startswith("rgb(") or len(parts) != 3:
        raise InvalidInput(field=field)
    try:
        numbers = [int(p.strip()) for p in parts]
    except ValueError as exc:
        raise InvalidInput(field=field) from exc
    if not all(0 <= n <= 255 for n in numbers):
        raise InvalidInput(field=field)
    return f"rgb({numbers[0]}, {numbers[1]}, {numbers[2]})"


async def set_tier(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    threshold: int,
    earn_bonus_pct: int,
    now: datetime,
    background_colour: str | None = None,
    foreground_colour: str | None = None,
    label_colour: str | None = None,
) -> TierRule:
    """Create or change a tier (operator CLI, demo). Members move at the next receipt or
    review, never here."""
    code = code.strip().lower()
    if not code or len(code) > 32 or not all(c.isalnum() or c in "_-+" for c in code):
        raise InvalidInput(field="code")
    name = name.strip()
    if not name or len(name) > 60:
        raise InvalidInput(field="name")
    if threshold < 0:
        raise InvalidInput(field="threshold")
    if not 0 <= earn_bonus_pct <= MAX_TIER_BONUS_PCT:
        raise InvalidInput(field="earnBonusPercent")
    programme_cache.changed(session)
    colours = {
        "background_colour": _check_colour(background_colour, "background"),
        "foreground_colour": _check_colour(foreground_colour, "foreground"),
        "label_colour": _check_colour(label_colour, "label"),
    }
    tier = await session.scalar(select(Tier).where(Tier.code == code).with_for_update())
    clash = await session.scalar(select(Tier).where(Tier.threshold == threshold, Tier.code != code))
    if clash is not None:
        raise InvalidInput(field="threshold")  # two tiers at one threshold: which one?
    if tier is None:
        tier = Tier(code=code, created_at=now)
        session.add(tier)
    tier.name = name
    tier.threshold = threshold
    tier.earn_bonus_pct = earn_bonus_pct
    tier.updated_at = now
    for key, value in colours.items():
        if value is not None or getattr(tier, key, None) is None:
            setattr(tier, key, value)
    await session.flush()
    return TierRule.of(tier)


async def qualifying_points(session: AsyncSession, member_id: int, now: datetime) -> int:
    """Points earned at partners in the last 12 months, net of returns.

    A return takes back only what the member still has (a reversal entry); what they had
    already spent is recorded as uncollected on the receipt (and on an offer's award) and
    is subtracted here too, so buy, spend, return never lifts a member a tier.
    """
    row = (await session.execute(select(*_qualifying_columns(member_id, now)))).one()
    return _net(row)


def _qualifying_columns(member_id: int, now: datetime) -> list[Any]:
    """Earned in the window, uncollected of receipts, uncollected of offer awards: three
    scalar subqueries, read in one statement."""
    since = now - relativedelta(months=WINDOW_MONTHS)
    columns: list[Any] = [
        select(func.coalesce(func.sum(PointsEntry.delta), 0))
        .where(
            PointsEntry.member_id == member_id,
            PointsEntry.kind.in_(QUALIFYING_KINDS),
            PointsEntry.created_at >= since,
        )
        .scalar_subquery()
    ]
    for source in (_RECEIPTS, _OFFER_AWARDS):
        columns.append(
            select(func.coalesce(func.sum(source.c.points_uncollected), 0))
            .where(source.c.member_id == member_id, source.c.created_at >= since)
            .scalar_subquery()
        )
    return columns


def _net(values: Sequence[Any]) -> int:
    total, *uncollected = values
    return max(0, int(total or 0) - sum(int(u or 0) for u in uncollected))


# Read by name (receipts and offers import tiers: their models cannot be imported here).
_RECEIPTS = table(
    "receipts", column("member_id"), column("created_at"), column("points_uncollected")
)
_OFFER_AWARDS = table(
    "offer_receipts", column("member_id"), column("created_at"), column("points_uncollected")
)


def qualified_for(tiers: Sequence[TierRule], points: int) -> TierRule | None:
    """The highest tier these points qualify for (None: no tiers, or none reached)."""
    found = None
    for tier in tiers:  # lowest threshold first
        if tier.threshold <= points:
            found = tier
    return found


def base_tier(tiers: Sequence[TierRule]) -> TierRule | None:
    return tiers[0] if tiers else None


async def held_tier(session: AsyncSession, member_id: int) -> MemberTier | None:
    return await session.get(MemberTier, member_id)


async def current_tier_of(session: AsyncSession, member_id: int) -> TierRule | None:
    """The tier the member holds (the base tier without a row; None: no tiers at all).
    The tiers themselves come from the per-process cache; only the member's row is read."""
    tiers = await list_tiers(session)
    tier_id = await session.scalar(
        select(MemberTier.tier_id).where(MemberTier.member_id == member_id)
    )
    if tier_id is not None:
        held = next((tier for tier in tiers if tier.id == tier_id), None)
        if held is None:  # a tier newer than this process's copy: read it
            row = await session.get(Tier, tier_id)
            held = TierRule.of(row) if row is not None else None
        if held is not None:
            return held
    return base_tier(tiers)


async def _move(
    session: AsyncSession,
    member_id: int,
    held: MemberTier | None,
    old: TierRule | None,
    new: TierRule | None,
    tiers: Sequence[TierRule],
    now: datetime,
) -> None:
    kept_until = now + relativedelta(months=PERIOD_MONTHS)
    if new is None or new == base_tier(tiers):
        if held is not None:
            await session.execute(delete(MemberTier).where(MemberTier.member_id == member_id))
    elif held is None:
        await session.execute(
            insert_ignoring_conflicts(
                session,
                cast(Table, MemberTier.__table__),
                {
                    "member_id": member_id,
                    "tier_id": new.id,
                    "since": now,
                    "kept_until": kept_until,
                    "updated_at": now,
                },
                ("member_id",),
            )
        )
    else:
        held.tier_id = new.id
        held.since = now
        held.kept_until = kept_until
        held.updated_at = now
    await session.flush()
    if (old.code if old else None) != (new.code if new else None):
        await events.publish(
            session,
            events.TierChanged(
                at=now,
                member_id=member_id,
                tier=new.code if new else "",
                tier_name=new.name if new else "",
                previous=old.code if old else "",
            ),
        )


# The member's lifetime points after the transaction's last ledger entry (BalanceChanged).
_LIFETIME = "happy_tiers_lifetime"


async def remember_lifetime(session: AsyncSession, event: events.BalanceChanged) -> None:
    """In the ledger entry's transaction: keep the member's lifetime points after it, for
    :func:`on_receipt_accepted` (no statement)."""
    if event.lifetime is not None:
        session.info.setdefault(_LIFETIME, {})[event.member_id] = event.lifetime


async def on_receipt_accepted(session: AsyncSession, event: events.ReceiptAccepted) -> None:
    """In the receipt's transaction: move the member up if this receipt crossed a line.

    The member's tier row is locked first, so two receipts of one member crossing together
    move them once."""
    if event.points <= 0:
        return
    tiers = await list_tiers(session)
    if len(tiers) < 2:
        return
    # Qualifying points never exceed lifetime points (both count earned points, the
    # qualifying ones only those of the window, net of refunds); the lifetime after this
    # receipt's credit was read under the account's lock. Below the lowest threshold above
    # the base tier, no tier can be reached: no statement (most members, most receipts).
    lifetime = session.info.get(_LIFETIME, {}).get(event.member_id)
    if lifetime is not None and lifetime < tiers[1].threshold:
        return
    # Most receipts cross nothing: one unlocked statement decides that (held tier and
    # qualifying points). Receipts of one member are already serialised by their points
    # account's row lock (taken before this event), so this read sees every receipt
    # committed before it; only a crossing takes the tier row's lock and decides again.
    held_id, *points_row = (
        await session.execute(
            select(
                select(MemberTier.tier_id)
                .where(MemberTier.member_id == event.member_id)
                .scalar_subquery(),
                *_qualifying_columns(event.member_id, event.at),
            )
        )
    ).one()
    current = next((t for t in tiers if t.id == held_id), base_tier(tiers))
    if current is not None and current == tiers[-1]:
        return
    reached = qualified_for(tiers, _net(points_row))
    if reached is None or current is None or reached.threshold <= current.threshold:
        return
    held = await session.scalar(
        select(MemberTier).where(MemberTier.member_id == event.member_id).with_for_update()
    )
    current = next((t for t in tiers if held and t.id == held.tier_id), base_tier(tiers))
    if current is not None and current == tiers[-1]:
        return  # already at the top: nothing to count
    points = await qualifying_points(session, event.member_id, event.at)
    reached = qualified_for(tiers, points)
    if reached is None or current is None or reached.threshold <= current.threshold:
        return
    await _move(session, event.member_id, held, current, reached, tiers, event.at)


@dataclass(frozen=True)
class ReviewReport:
    reviewed: int
    kept: int
    moved_down: int
    moved_up: int


async def review(session: AsyncSession, now: datetime, *, batch: int = 500) -> ReviewReport:
    """The periodic review: members whose tier period has ended keep it for another period
    if they still qualify, else move to the tier they qualify for now; members who qualify
    for more than they hold (a threshold lowered) move up. Safe to run twice."""
    tiers = await list_tiers(session)
    kept = down = up = reviewed = 0
    if not tiers:
        return ReviewReport(0, 0, 0, 0)
    due = (
        await session.scalars(
            select(MemberTier)
            .where(MemberTier.kept_until <= now)
            .order_by(MemberTier.member_id)
            .with_for_update()
        )
    ).all()
    by_id = {t.id: t for t in tiers}
    for held in due:
        reviewed += 1
        old = by_id.get(held.tier_id)
        reached = qualified_for(tiers, await qualifying_points(session, held.member_id, now))
        if old is not None and reached is not None and reached.threshold >= old.threshold:
            if reached == old:
                held.kept_until = now + relativedelta(months=PERIOD_MONTHS)
                held.updated_at = now
                kept += 1
                continue
            up += 1
        else:
            down += 1
        await _move(session, held.member_id, held, old, reached, tiers, now)
    # Members below a tier they qualify for (thresholds lowered since their receipts).
    if len(tiers) > 1:
        lowest_above_base = tiers[1].threshold
        since = now - relativedelta(months=WINDOW_MONTHS)
        sums = (
            select(PointsEntry.member_id, func.sum(PointsEntry.delta).label("points"))
            .where(PointsEntry.kind.in_(QUALIFYING_KINDS), PointsEntry.created_at >= since)
            .group_by(PointsEntry.member_id)
            .subquery()
        )
        rows = (
            await session.execute(
                select(sums.c.member_id, sums.c.points, MemberTier.tier_id)
                .join(Member, Member.id == sums.c.member_id)
                .outerjoin(MemberTier, MemberTier.member_id == sums.c.member_id)
                .where(sums.c.points >= lowest_above_base, Member.status == MemberStatus.ACTIVE)
                .order_by(sums.c.member_id)
                .limit(batch * 100)
            )
        ).all()
        for member_id, points, tier_id in rows:
            reached = qualified_for(tiers, int(points))
            old = by_id.get(tier_id) if tier_id is not None else base_tier(tiers)
            if reached is None or old is None or reached.threshold <= old.threshold:
                continue
            locked = await session.scalar(
                select(MemberTier).where(MemberTier.member_id == member_id).with_for_update()
            )
            await _move(session, member_id, locked, old, reached, tiers, now)
            up += 1
    return ReviewReport(reviewed, kept, down, up)


@dataclass(frozen=True)
class MemberTierView:
    """What ``me.tier`` shows."""

    code: str
    name: str
    since: datetime
    kept_until: datetime | None
    next_tier: str | None
    points_to_next: int | None
    qualifying_points: int


async def member_tier_view(
    session: AsyncSession, member_id: int, member_since: datetime, now: datetime
) -> MemberTierView | None:
    tiers = await list_tiers(session)
    if not tiers:
        return None
    held = await session.get(MemberTier, member_id)
    by_id = {t.id: t for t in tiers}
    current = by_id.get(held.tier_id) if held is not None else None
    current = current or tiers[0]
    points = await qualifying_points(session, member_id, now)
    higher = [t for t in tiers if t.threshold > current.threshold]
    nxt = higher[0] if higher else None
    return MemberTierView(
        code=current.code,
        name=current.name,
        since=held.since if held is not None else member_since,
        kept_until=held.kept_until if held is not None else None,
        next_tier=nxt.name if nxt else None,
        points_to_next=max(0, nxt.threshold - points) if nxt else None,
        qualifying_points=points,
    )


async def tier_names_of(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, str]:
    """The tier name each member holds (base tier for members without a row)."""
    tiers = await list_tiers(session)
    if not tiers:
        return {}
    rows = await session.execute(
        select(MemberTier.member_id, MemberTier.tier_id).where(MemberTier.member_id.in_(member_ids))
    )
    by_id = {t.id: t for t in tiers}
    found = {m: tiers[0].name for m in member_ids}
    for member_id, tier_id in rows.all():
        if tier_id in by_id:
            found[member_id] = by_id[tier_id].name
    return found


async def get_tier(session: AsyncSession, code: str) -> TierRule:
    tier = await session.scalar(select(Tier).where(Tier.code == code.strip().lower()))
    if tier is None:
        raise NotFound(field="tier")
    return TierRule.of(tier)


DEMO_TIERS = (
    # code, name, threshold, earn bonus %, background, foreground, label
    ("happy", "Happy", 0, 0, "rgb(255, 204, 0)", "rgb(30, 30, 30)", "rgb(90, 60, 0)"),
    ("happy_plus", "Happy+", 5000, 25, "rgb(20, 20, 60)", "rgb(255, 255, 255)", "rgb(255, 204, 0)"),
)


async def seed_demo_tiers(session: AsyncSession, now: datetime) -> None:
    """Happy and Happy+ (from 5,000 points in 12 months, +25 % points), if not set."""
    programme_cache.changed(session)
    existing = {t.code for t in await list_tiers(session)}
    for code, name, threshold, bonus, background, foreground, label in DEMO_TIERS:
        if code not in existing:
            await set_tier(
                session,
                code=code,
                name=name,
                threshold=threshold,
                earn_bonus_pct=bonus,
                now=now,
                background_colour=background,
                foreground_colour=foreground,
                label_colour=label,
            )
