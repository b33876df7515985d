"""Prizes at the store: catalogue, wheel draws, exchanges for points, pickups.

Exactly once, by construction:

- **Stock** is taken by one guarded ``UPDATE ... SET stock = stock - 1 WHERE stock > 0
  RETURNING``: of any number of concurrent exchanges of the last item, one gets a row back.
- **Plays per day** are a counter per (member, store, programme day) raised by
  ``INSERT ... ON CONFLICT DO UPDATE SET used = used + 1 WHERE used < plays`` (the row
  lock serialises concurrent spins; a spin that gets no row back has no play left).
- **A points segment's daily budget** is the same guarded upsert on (segment, day); a
  segment without stock or budget left is not in the draw, and a segment that loses a
  race for its last item or budget is dropped and the draw is made again.
- **Points** move only through ``ledger.post`` with an idempotency key naming the draw or
  the exchange; a confirmed exchange keeps the hash of the SMS code that confirmed it, so
  a retried confirmation returns the stored pickup code instead of deducting again.

The functions take plain ids (member, store, optional kiosk): the kiosk door calls them
through ``app.kiosks.service``; another door (USSD) can call :func:`reserve_prize` and
:func:`confirm_exchange` directly.
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.callers import StoreCaller
from app.errors import (
    ErrorCode,
    InsufficientPoints,
    InvalidInput,
    KioskRuleRejected,
    NotFound,
    PrizeRejected,
)
from app.ledger import service as ledger
from app.ledger.models import EntryKind
from app.limits import service as limits
from app.partners import service as partners
from app.partners.models import Store
from app.prizes import codes
from app.prizes.models import (
    ExchangeSource,
    ExchangeStatus,
    Prize,
    PrizeExchange,
    SegmentKind,
    WheelBudgetDay,
    WheelDraw,
    WheelPlays,
    WheelSegment,
)
from app.programme.service import get_programme, points_expire_at
from app.rewards import codes as voucher_codes
from app.rewards.models import Voucher, VoucherStatus
from app.support import blocks

# A till or kiosk typing pickup codes that do not exist is stopped (codes are ~40 bits).
PICKUP_CODE_GUESSES = limits.Limit(
    "pickup_code_miss", attempts=20, window_seconds=15 * 60, field="pickupCode"
)
WHEEL_VOUCHER_VALIDITY = timedelta(days=90)
PENDING_EXCHANGE_TTL = timedelta(minutes=10)


def new_public_id() -> str:
    return uuid.uuid4().hex


async def programme_day(session: AsyncSession, now: datetime) -> date:
    """The calendar day in the programme's time zone ("per day" rules)."""
    programme = await get_programme(session)
    return now.astimezone(ZoneInfo(programme.timezone)).date()


def _upsert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def _store(session: AsyncSession, store_code: str) -> Store:
    store = await partners.store_by_code(session, store_code)
    if store is None:
        raise NotFound(field="store")
    return store


# --- catalogue -----------------------------------------------------------------------------


async def list_catalogue(session: AsyncSession, store_id: int) -> list[Prize]:
    """The store's active prizes, in display order."""
    stmt = (
        select(Prize)
        .where(Prize.store_id == store_id, Prize.active.is_(True))
        .order_by(Prize.position, Prize.id)
    )
    return list((await session.execute(stmt)).scalars())


async def list_store_prizes(session: AsyncSession, store_code: str) -> list[Prize]:
    """Every prize of the store, active or not (operator listing)."""
    store = await _store(session, store_code)
    stmt = select(Prize).where(Prize.store_id == store.id).order_by(Prize.position, Prize.id)
    return list((await session.execute(stmt)).scalars())


def _check_prize_values(name: str | None, points: int | None, stock: int | None) -> None:
    if name is not None and not (0 < len(name.strip()) <= 120):
        raise InvalidInput(field="name")
    if points is not None and points <= 0:
        raise InvalidInput(field="points")
    if stock is not None and stock < 0:
        raise InvalidInput(field="stock")


async def add_prize(
    session: AsyncSession,
    *,
    store_code: str,
    name: str,
    points_price: int,
    stock: int,
    image: str | None,
    now: datetime,
) -> Prize:
    """A new prize in the store's catalogue (``happy prize add``)."""
    _check_prize_values(name, points_price, stock)
    store = await _store(session, store_code)
    position = (
        await session.execute(
            select(func.coalesce(func.max(Prize.position), 0)).where(Prize.store_id == store.id)
        )
    ).scalar_one()
    prize = Prize(
        public_id=new_public_id(),
        store_id=store.id,
        name=name.strip(),
        image=image,
        points_price=points_price,
        stock=stock,
        position=int(position) + 1,
        active=True,
        updated_at=now,
    )
    session.add(prize)
    await session.flush()
    return prize


async def change_prize(
    session: AsyncSession,
    public_id: str,
    *,
    name: str | None = None,
    points_price: int | None = None,
    stock: int | None = None,
    image: str | None = None,
    active: bool | None = None,
    now: datetime,
) -> Prize:
    """Change a prize (``happy prize set``); stock is set, not added."""
    _check_prize_values(name, points_price, stock)
    prize = (
        await session.execute(select(Prize).where(Prize.public_id == public_id).with_for_update())
    ).scalar_one_or_none()
    if prize is None:
        raise NotFound(field="prize")
    if name is not None:
        prize.name = name.strip()
    if points_price is not None:
        prize.points_price = points_price
    if stock is not None:
        prize.stock = stock
    if image is not None:
        prize.image = image or None
    if active is not None:
        prize.active = active
    prize.updated_at = now
    await session.flush()
    return prize


# --- the wheel ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentInput:
    label: str
    kind: SegmentKind
    weight: int
    points: int | None = None
    voucher_value: int | None = None
    voucher_currency: str | None = None
    stock: int | None = None
    daily_points_budget: int | None = None


def _check_segment(segment: SegmentInput) -> None:
    if not (0 < len(segment.label.strip()) <= 60):
        raise InvalidInput(field="label")
    if segment.weight < 0:
        raise InvalidInput(field="weight")
    if segment.kind == SegmentKind.POINTS and not (segment.points and segment.points > 0):
        raise InvalidInput(field="points")
    if segment.kind == SegmentKind.VOUCHER and not (
        segment.voucher_value
        and segment.voucher_value > 0
        and segment.voucher_currency
        and len(segment.voucher_currency) == 3
    ):
        raise InvalidInput(field="voucher")
    if segment.stock is not None and segment.stock < 0:
        raise InvalidInput(field="stock")
    if segment.daily_points_budget is not None and (
        segment.kind != SegmentKind.POINTS or segment.daily_points_budget < 0
    ):
        raise InvalidInput(field="budget")


async def wheel_of(session: AsyncSession, store_id: int) -> list[WheelSegment]:
    """The store's active segments in wheel order."""
    stmt = (
        select(WheelSegment)
        .where(WheelSegment.store_id == store_id, WheelSegment.active.is_(True))
        .order_by(WheelSegment.position, WheelSegment.id)
    )
    return list((await session.execute(stmt)).scalars())


async def list_store_segments(session: AsyncSession, store_code: str) -> list[WheelSegment]:
    store = await _store(session, store_code)
    stmt = (
        select(WheelSegment)
        .where(WheelSegment.store_id == store.id)
        .order_by(WheelSegment.position, WheelSegment.id)
    )
    return list((await session.execute(stmt)).scalars())


async def add_segment(
    session: AsyncSession, *, store_code: str, segment: SegmentInput, now: datetime
) -> WheelSegment:
    """A new segment at the end of the store's wheel (``happy wheel add``)."""
    _check_segment(segment)
    store = await _store(session, store_code)
    position = (
        await session.execute(
            select(func.coalesce(func.max(WheelSegment.position), 0)).where(
                WheelSegment.store_id == store.id
            )
        )
    ).scalar_one()
    row = WheelSegment(
        public_id=new_public_id(),
        store_id=store.id,
        position=int(position) + 1,
        label=segment.label.strip(),
        kind=segment.kind,
        weight=segment.weight,
        points=segment.points if segment.kind == SegmentKind.POINTS else None,
        voucher_value=segment.voucher_value if segment.kind == SegmentKind.VOUCHER else None,
        voucher_currency=(
            segment.voucher_currency.upper()
            if segment.kind == SegmentKind.VOUCHER and segment.voucher_currency
            else None
        ),
        stock=segment.stock,
        daily_points_budget=segment.daily_points_budget,
        active=True,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def change_segment(
    session: AsyncSession,
    public_id: str,
    *,
    weight: int | None = None,
    stock: int | None = None,
    unlimited_stock: bool = False,
    daily_points_budget: int | None = None,
    active: bool | None = None,
    now: datetime,
) -> WheelSegment:
    """Change a segment's weight, stock, budget or whether it is on the wheel."""
    row = (
        await session.execute(
            select(WheelSegment).where(WheelSegment.public_id == public_id).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(field="segment")
    if weight is not None:
        if weight < 0:
            raise InvalidInput(field="weight")
        row.weight = weight
    if unlimited_stock:
        row.stock = None
    elif stock is not None:
        if stock < 0:
            raise InvalidInput(field="stock")
        row.stock = stock
    if daily_points_budget is not None:
        if row.kind != SegmentKind.POINTS or daily_points_budget < 0:
            raise InvalidInput(field="budget")
        row.daily_points_budget = daily_points_budget
    if active is not None:
        row.active = active
    row.updated_at = now
    await session.flush()
    return row


async def plays_used(session: AsyncSession, member_id: int, store_id: int, day: date) -> int:
    row = await session.get(WheelPlays, (member_id, store_id, day))
    return row.used if row is not None else 0


async def _take_play(
    session: AsyncSession, member_id: int, store_id: int, day: date, plays_per_day: int
) -> int:
    if plays_per_day <= 0:
        raise KioskRuleRejected(ErrorCode.NO_PLAYS_LEFT)
    table = cast(Table, WheelPlays.__table__)
    stmt = (
        _upsert(session, table)
        .values(member_id=member_id, store_id=store_id, day=day, used=1)
        .on_conflict_do_update(
            index_elements=["member_id", "store_id", "day"],
            set_={"used": table.c.used + 1},
            where=table.c.used < plays_per_day,
        )
        .returning(table.c.used)
    )
    used = (await session.execute(stmt)).scalar_one_or_none()
    if used is None:
        raise KioskRuleRejected(ErrorCode.NO_PLAYS_LEFT)
    return int(used)


async def _budget_spent(session: AsyncSession, segment_ids: list[int], day: date) -> dict[int, int]:
    if not segment_ids:
        return {}
    stmt = select(WheelBudgetDay.segment_id, WheelBudgetDay.spent).where(
        WheelBudgetDay.segment_id.in_(segment_ids), WheelBudgetDay.day == day
    )
    return {segment_id: int(spent) for segment_id, spent in (await session.execute(stmt)).all()}


def _budget_left(segment: WheelSegment, spent: dict[int, int]) -> int | None:
    if segment.daily_points_budget is None:
        return None
    return segment.daily_points_budget - spent.get(segment.id, 0)


def _can_come_up(segment: WheelSegment, spent: dict[int, int]) -> bool:
    if segment.weight <= 0:
        return False
    if segment.stock is not None and segment.stock <= 0:
        return False
    left = _budget_left(segment, spent)
    return left is None or left >= (segment.points or 0)


async def _claim_segment(session: AsyncSession, segment: WheelSegment, day: date) -> bool:
    """Take one item of stock and the points from the day's budget; False if it ran out."""
    if segment.stock is not None:
        table = cast(Table, WheelSegment.__table__)
        left = (
            await session.execute(
                update(table)
                .where(table.c.id == segment.id, table.c.stock > 0)
                .values(stock=table.c.stock - 1)
                .returning(table.c.stock)
            )
        ).scalar_one_or_none()
        if left is None:
            return False
    if segment.daily_points_budget is not None:
        points = segment.points or 0
        if points > segment.daily_points_budget:
            return False
        budget = cast(Table, WheelBudgetDay.__table__)
        stmt = (
            _upsert(session, budget)
            .values(segment_id=segment.id, day=day, spent=points)
            .on_conflict_do_update(
                index_elements=["segment_id", "day"],
                set_={"spent": budget.c.spent + points},
                where=budget.c.spent + points <= segment.daily_points_budget,
            )
            .returning(budget.c.spent)
        )
        if (await session.execute(stmt)).scalar_one_or_none() is None:
            # The segment does not come up after all: give back the item taken above.
            if segment.stock is not None:
                table = cast(Table, WheelSegment.__table__)
                await session.execute(
                    update(table).where(table.c.id == segment.id).values(stock=table.c.stock + 1)
                )
            return False
    return True


@dataclass(frozen=True)
class SpinOutcome:
    draw: WheelDraw
    segment: WheelSegment | None
    plays_left: int
    balance: int
    pickup_code: str | None


async def spin(
    session: AsyncSession,
    *,
    member_id: int,
    store_id: int,
    kiosk_id: int | None,
    plays_per_day: int,
    now: datetime,
) -> SpinOutcome:
    """Use one of today's plays and draw a segment on the server with :mod:`secrets`.

    Only segments that can come up (weight > 0, in stock, within today's budget) are in
    the draw; the draw is stored with those odds. No segment can come up: ``nothing``.
    """
    await blocks.ensure_not_blocked(session, member_id)
    day = await programme_day(session, now)
    used = await _take_play(session, member_id, store_id, day, plays_per_day)
    segments = await wheel_of(session, store_id)
    spent = await _budget_spent(session, [s.id for s in segments], day)
    excluded: set[int] = set()
    chosen: WheelSegment | None = None
    while True:
        eligible = [s for s in segments if s.id not in excluded and _can_come_up(s, spent)]
        total = sum(s.weight for s in eligible)
        odds = [
            {
                "id": s.id,
                "segment": s.public_id,
                "label": s.label,
                "kind": s.kind.value,
                "weight": s.weight,
                "stock": s.stock,
                "budgetLeft": _budget_left(s, spent),
                "eligible": s in eligible,
            }
            for s in segments
        ]
        if total == 0:
            roll = 0
            chosen = None
            break
        roll = secrets.randbelow(total)
        cumulative = 0
        for candidate in eligible:
            cumulative += candidate.weight
            if roll < cumulative:
                chosen = candidate
                break
        assert chosen is not None
        if await _claim_segment(session, chosen, day):
            break
        excluded.add(chosen.id)  # lost a race for its last item or budget: draw again
        chosen = None

    kind = chosen.kind if chosen is not None else SegmentKind.NOTHING
    draw = WheelDraw(
        public_id=new_public_id(),
        member_id=member_id,
        store_id=store_id,
        kiosk_id=kiosk_id,
        day=day,
        segment_id=chosen.id if chosen is not None else None,
        kind=kind,
        label=chosen.label if chosen is not None else "",
        points=(chosen.points or 0) if chosen is not None and kind == SegmentKind.POINTS else 0,
        odds=odds,
        roll=roll,
        total_weight=total,
        created_at=now,
    )
    session.add(draw)
    await session.flush()
    pickup_code = None
    store = await session.get(Store, store_id)
    assert store is not None
    if chosen is not None and kind == SegmentKind.POINTS and draw.points > 0:
        programme = await get_programme(session)
        entry = await ledger.post(
            session,
            member_id=member_id,
            kind=EntryKind.GAME_PRIZE,
            delta=draw.points,
            now=now,
            expires_at=points_expire_at(programme, now),
            reference_type="wheel_draw",
            reference_id=draw.public_id,
            description=f"Prize wheel at {store.name}: {chosen.label}",
            idempotency_key=f"wheel_draw:{draw.id}",
        )
        draw.entry_id = entry.id
    elif chosen is not None and kind == SegmentKind.VOUCHER:
        voucher = Voucher(
            code=voucher_codes.new_code(),
            member_id=member_id,
            claim_id=None,
            value_amount=chosen.voucher_value or 0,
            currency=chosen.voucher_currency or store.currency,
            status=VoucherStatus.ISSUED,
            partner_id=store.partner_id,  # the partner whose wheel it is funds it
            issued_at=now,
            expires_at=now + WHEEL_VOUCHER_VALIDITY,
        )
        session.add(voucher)
        await session.flush()
        draw.voucher_id = voucher.id
    elif chosen is not None and kind == SegmentKind.GOODS:
        exchange = PrizeExchange(
            public_id=new_public_id(),
            member_id=member_id,
            store_id=store_id,
            kiosk_id=kiosk_id,
            source=ExchangeSource.WHEEL,
            segment_id=chosen.id,
            prize_name=chosen.label,
            points=0,
            status=ExchangeStatus.CONFIRMED,
            created_at=now,
            expires_at=now,
            confirmed_at=now,
        )
        pickup_code = await _with_pickup_code(session, exchange)
    await session.flush()
    balance = (await ledger.get_balance(session, member_id)).available
    return SpinOutcome(draw, chosen, max(0, plays_per_day - used), balance, pickup_code)


async def _with_pickup_code(session: AsyncSession, exchange: PrizeExchange) -> str:
    """Give the exchange a unique pickup code and flush it (a collision draws again)."""
    for _ in range(5):
        exchange.pickup_code = codes.new_pickup_code()
        try:
            async with session.begin_nested():
                session.add(exchange)
                await session.flush()
            return exchange.pickup_code
        except IntegrityError:
            continue
    raise RuntimeError("could not draw a unique pickup code")


# --- exchanges --------------------------------------------------------------------------


@dataclass(frozen=True)
class Reservation:
    """A pending exchange: nothing is taken until the member confirms with the SMS code."""

    exchange: PrizeExchange
    prize: Prize
    store: Store


async def reserve_prize(
    session: AsyncSession,
    *,
    member_id: int,
    store_id: int,
    prize_public_id: str,
    kiosk_id: int | None = None,
    visit_id: int | None = None,
    now: datetime,
) -> Reservation:
    """Start exchanging points for a prize of the store (any door: kiosk, USSD).

    Checks the prize is on the store's catalogue, in stock and affordable now, and records
    a pending exchange valid for ``PENDING_EXCHANGE_TTL``. The door then proves the member
    with an SMS code and calls :func:`confirm_exchange`, which takes stock and points.
    """
    await blocks.ensure_not_blocked(session, member_id)
    prize = (
        await session.execute(
            select(Prize).where(
                Prize.public_id == prize_public_id,
                Prize.store_id == store_id,
                Prize.active.is_(True),
            )
        )
    ).scalar_one_or_none()
    if prize is None:
        raise PrizeRejected(ErrorCode.PRIZE_NOT_FOUND, field="prizeId")
    if prize.stock <= 0:
        raise PrizeRejected(ErrorCode.OUT_OF_STOCK, field="prizeId")
    balance = (await ledger.get_balance(session, member_id)).available
    if balance < prize.points_price:
        raise InsufficientPoints(field="prizeId", needed=prize.points_price)
    store = await session.get(Store, store_id)
    assert store is not None
    exchange = PrizeExchange(
        public_id=new_public_id(),
        member_id=member_id,
        store_id=store_id,
        kiosk_id=kiosk_id,
        visit_id=visit_id,
        source=ExchangeSource.CATALOGUE,
        prize_id=prize.id,
        prize_name=prize.name,
        points=prize.points_price,
        status=ExchangeStatus.PENDING,
        created_at=now,
        expires_at=now + PENDING_EXCHANGE_TTL,
    )
    session.add(exchange)
    await session.flush()
    return Reservation(exchange, prize, store)


async def lock_exchange(
    session: AsyncSession, *, member_id: int, store_id: int, exchange_public_id: str
) -> PrizeExchange:
    """The member's exchange at this store, locked for the rest of the transaction."""
    exchange = (
        await session.execute(
            select(PrizeExchange)
            .where(
                PrizeExchange.public_id == exchange_public_id,
                PrizeExchange.member_id == member_id,
                PrizeExchange.store_id == store_id,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if exchange is None:
        raise PrizeRejected(ErrorCode.EXCHANGE_NOT_FOUND, field="exchangeId")
    return exchange


@dataclass(frozen=True)
class ConfirmedExchange:
    exchange: PrizeExchange
    pickup_code: str
    balance: int


async def confirmed_answer(session: AsyncSession, exchange: PrizeExchange) -> ConfirmedExchange:
    """The stored answer of a confirmed exchange (a retried confirmation)."""
    if exchange.status == ExchangeStatus.CANCELLED:
        raise PrizeRejected(ErrorCode.PRIZE_EXCHANGE_CANCELLED, field="exchangeId")
    assert exchange.pickup_code is not None
    balance = (await ledger.get_balance(session, exchange.member_id)).available
    return ConfirmedExchange(exchange, exchange.pickup_code, balance)


async def confirm_exchange(
    session: AsyncSession,
    exchange: PrizeExchange,
    *,
    confirmation_hash: str,
    now: datetime,
) -> ConfirmedExchange:
    """Take one item of stock and the points, give a pickup code (exchange locked, code
    already checked by the door). Out of stock or short of points: nothing changes."""
    if exchange.status != ExchangeStatus.PENDING:
        return await confirmed_answer(session, exchange)
    if exchange.expires_at.replace(tzinfo=exchange.expires_at.tzinfo or now.tzinfo) <= now:
        raise PrizeRejected(ErrorCode.EXCHANGE_EXPIRED, field="exchangeId")
    await blocks.ensure_not_blocked(session, exchange.member_id)
    assert exchange.prize_id is not None
    prizes = cast(Table, Prize.__table__)
    left = (
        await session.execute(
            update(prizes)
            .where(prizes.c.id == exchange.prize_id, prizes.c.stock > 0)
            .values(stock=prizes.c.stock - 1)
            .returning(prizes.c.stock)
        )
    ).scalar_one_or_none()
    if left is None:
        raise PrizeRejected(ErrorCode.OUT_OF_STOCK, field="prizeId")
    store = await session.get(Store, exchange.store_id)
    assert store is not None
    entry = await ledger.post(
        session,
        member_id=exchange.member_id,
        kind=EntryKind.PRIZE_EXCHANGE,
        delta=-exchange.points,
        now=now,
        reference_type="prize_exchange",
        reference_id=exchange.public_id,
        description=f"Prize {exchange.prize_name} at {store.name}",
        idempotency_key=f"prize_exchange:{exchange.id}",
    )
    exchange.status = ExchangeStatus.CONFIRMED
    exchange.confirmation_hash = confirmation_hash
    exchange.confirmed_at = now
    exchange.entry_id = entry.id
    code = await _with_pickup_code(session, exchange)
    return ConfirmedExchange(exchange, code, entry.balance_after)


async def _exchange_by_pickup_code(
    session: AsyncSession, caller: StoreCaller, pickup_code: str, now: datetime
) -> PrizeExchange:
    await limits.ensure_left(session, PICKUP_CODE_GUESSES, caller, now)
    code = codes.normalise(pickup_code)
    exchange = None
    if 0 < len(code) <= 16:
        exchange = (
            await session.execute(
                select(PrizeExchange)
                .where(
                    PrizeExchange.pickup_code == code,
                    PrizeExchange.store_id == caller.store_id,
                )
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
    if exchange is None:
        await limits.count_failure(session, PICKUP_CODE_GUESSES, caller, now)
        raise PrizeRejected(ErrorCode.PICKUP_CODE_NOT_FOUND, field="pickupCode", keep_changes=True)
    return exchange


def _check_waiting(exchange: PrizeExchange) -> None:
    if exchange.status == ExchangeStatus.HANDED_OVER:
        raise PrizeRejected(ErrorCode.PRIZE_ALREADY_HANDED_OVER, field="pickupCode")
    if exchange.status == ExchangeStatus.CANCELLED:
        raise PrizeRejected(ErrorCode.PRIZE_EXCHANGE_CANCELLED, field="pickupCode")


async def hand_over(
    session: AsyncSession, caller: StoreCaller, pickup_code: str, now: datetime
) -> PrizeExchange:
    """Staff at the exchange's store hand the prize over, once."""
    exchange = await _exchange_by_pickup_code(session, caller, pickup_code, now)
    _check_waiting(exchange)
    exchange.status = ExchangeStatus.HANDED_OVER
    exchange.handed_over_at = now
    exchange.handed_over_via = caller.channel.value
    await session.flush()
    return exchange


@dataclass(frozen=True)
class CancelledExchange:
    exchange: PrizeExchange
    points_restored: int


async def cancel_exchange(
    session: AsyncSession,
    caller: StoreCaller,
    pickup_code: str,
    *,
    window: timedelta,
    now: datetime,
) -> CancelledExchange:
    """Staff cancel a prize not yet handed over, within ``window`` of its confirmation:
    the points come back (a PRIZE_EXCHANGE credit) and so does the item of stock."""
    exchange = await _exchange_by_pickup_code(session, caller, pickup_code, now)
    _check_waiting(exchange)
    confirmed_at = exchange.confirmed_at or exchange.created_at
    if confirmed_at.tzinfo is None:
        confirmed_at = confirmed_at.replace(tzinfo=now.tzinfo)
    if now - confirmed_at > window:
        raise PrizeRejected(ErrorCode.CANCEL_WINDOW_PASSED, field="pickupCode")
    exchange.status = ExchangeStatus.CANCELLED
    exchange.cancelled_at = now
    if exchange.prize_id is not None:
        table = cast(Table, Prize.__table__)
        await session.execute(
            update(table).where(table.c.id == exchange.prize_id).values(stock=table.c.stock + 1)
        )
    elif exchange.segment_id is not None:
        table = cast(Table, WheelSegment.__table__)
        await session.execute(
            update(table)
            .where(table.c.id == exchange.segment_id, table.c.stock.is_not(None))
            .values(stock=table.c.stock + 1)
        )
    if exchange.points > 0:
        programme = await get_programme(session)
        await ledger.post(
            session,
            member_id=exchange.member_id,
            kind=EntryKind.PRIZE_EXCHANGE,
            delta=exchange.points,
            now=now,
            expires_at=points_expire_at(programme, now),
            reference_type="prize_exchange",
            reference_id=exchange.public_id,
            description=f"Prize exchange cancelled: {exchange.prize_name}",
            idempotency_key=f"prize_exchange_cancel:{exchange.id}",
        )
    await session.flush()
    return CancelledExchange(exchange, exchange.points)


# --- the operator's proof of the odds --------------------------------------------------------


@dataclass(frozen=True)
class SegmentFrequency:
    segment: str
    label: str
    kind: str
    configured_share: float  # weight / total weight of the eligible segments, averaged
    observed: int
    observed_share: float


@dataclass(frozen=True)
class DrawReport:
    store_code: str
    day: date
    draws: list[WheelDraw]
    frequencies: list[SegmentFrequency]


async def draw_report(session: AsyncSession, store_code: str, day: date) -> DrawReport:
    """Every draw of the store on ``day`` and, per segment, the expected share (the mean
    of its probability in force at each draw) next to the observed share."""
    store = await _store(session, store_code)
    draws = list(
        (
            await session.execute(
                select(WheelDraw)
                .where(WheelDraw.store_id == store.id, WheelDraw.day == day)
                .order_by(WheelDraw.id)
            )
        ).scalars()
    )
    expected: dict[str, float] = {}
    labels: dict[str, tuple[str, str]] = {}
    observed: Counter[str] = Counter()
    for draw in draws:
        for odd in draw.odds:
            labels.setdefault(odd["segment"], (odd["label"], odd["kind"]))
            share = (
                odd["weight"] / draw.total_weight
                if odd["eligible"] and draw.total_weight > 0
                else 0.0
            )
            expected[odd["segment"]] = expected.get(odd["segment"], 0.0) + share
        won = next((o["segment"] for o in draw.odds if o["id"] == draw.segment_id), None)
        observed[won or "-"] += 1
    n = len(draws)
    frequencies = [
        SegmentFrequency(
            segment=segment,
            label=labels[segment][0],
            kind=labels[segment][1],
            configured_share=expected[segment] / n if n else 0.0,
            observed=observed.get(segment, 0),
            observed_share=observed.get(segment, 0) / n if n else 0.0,
        )
        for segment in expected
    ]
    return DrawReport(store.code, day, draws, frequencies)
