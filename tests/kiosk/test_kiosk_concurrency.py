"""Exactly once under real concurrency through the kiosk door (PostgreSQL: SQLite
serialises writers), and ``happy ledger check`` after each proof."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import func, select, update

from app.db import Database
from app.ledger.models import EntryKind, PointsEntry
from app.prizes.models import Prize, SegmentKind, WheelBudgetDay, WheelDraw, WheelSegment
from app.settings import Settings
from tests.conftest import requires_postgres
from tests.helpers import Api
from tests.kiosk.conftest import KioskClient, enrolled_kiosk
from tests.pos.conftest import Member, happy, sign_up


async def ledger_holds() -> None:
    assert await happy(["ledger", "check"]) == 0


async def _count(db: Database, kind: EntryKind) -> int:
    async with db.read_session() as session:
        return int(
            (
                await session.execute(
                    select(func.count()).select_from(PointsEntry).where(PointsEntry.kind == kind)
                )
            ).scalar_one()
        )


@requires_postgres
async def test_20_concurrent_exchanges_of_the_last_item_give_one(
    kiosk: KioskClient,
    api: Api,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    cli_env: None,
) -> None:
    cheap = min(await kiosk.prizes(), key=lambda p: p["pointsPrice"])
    async with db.unit_of_work() as session:
        await session.execute(update(Prize).where(Prize.public_id == cheap["id"]).values(stock=1))
    # 20 members at 20 kiosks of the store (a kiosk serves one visit at a time), each with
    # a pending exchange of the last item.
    tablets = [kiosk] + [
        await enrolled_kiosk(db, settings, client, kiosk.outbox, "SPAR-TIR-01") for _ in range(19)
    ]
    pending: list[tuple[KioskClient, str, str, str]] = []
    for i in range(20):
        member = await sign_up(api, db, f"+3556920000{i:02d}")
        tablet = tablets[i]
        session = (await tablet.by_card(member.card))["session"]
        requested = await tablet.request_exchange(session, cheap["id"])
        assert requested["__typename"] == "PrizeExchangeRequested", requested
        code = kiosk.outbox.last_code(member.phone)
        pending.append((tablet, session, requested["exchangeId"], code))
    results = await asyncio.gather(*(t.confirm_exchange(s, e, c) for t, s, e, c in pending))
    kinds = Counter(r["__typename"] if "code" not in r else r["code"] for r in results)
    assert kinds == {"PrizeExchangeConfirmed": 1, "OUT_OF_STOCK": 19}, kinds
    assert await _count(db, EntryKind.PRIZE_EXCHANGE) == 1
    async with db.read_session() as session:
        stock = (
            await session.execute(select(Prize.stock).where(Prize.public_id == cheap["id"]))
        ).scalar_one()
    assert stock == 0
    await ledger_holds()


@requires_postgres
async def test_10_concurrent_spins_with_one_play_left_give_one(
    kiosk: KioskClient, member: Member, db: Database, cli_env: None
) -> None:
    session = (await kiosk.by_card(member.card))["session"]
    assert (await kiosk.spin(session))["playsLeft"] == 2
    assert (await kiosk.spin(session))["playsLeft"] == 1
    results = await asyncio.gather(*(kiosk.spin(session) for _ in range(10)))
    kinds = Counter(
        r["__typename"] if r["__typename"] == "SpinResult" else r["code"] for r in results
    )
    assert kinds == {"SpinResult": 1, "NO_PLAYS_LEFT": 9}, kinds
    async with db.read_session() as s:
        draws = (await s.execute(select(func.count()).select_from(WheelDraw))).scalar_one()
    assert draws == 3
    await ledger_holds()


@requires_postgres
async def test_concurrent_spins_never_exceed_the_days_budget(
    kiosk: KioskClient, api: Api, db: Database, settings: Settings, cli_env: None
) -> None:
    # One segment only: 50 points, 200 a day (four wins), against 12 members spinning at once.
    async with db.unit_of_work() as s:
        await s.execute(update(WheelSegment).values(active=False))
        await s.execute(
            update(WheelSegment)
            .where(WheelSegment.kind == SegmentKind.POINTS, WheelSegment.points == 50)
            .values(active=True, daily_points_budget=200, weight=1)
        )
    visits = []
    for i in range(12):
        member = await sign_up(api, db, f"+3556930000{i:02d}")
        tablet = (
            kiosk
            if i == 0
            else await enrolled_kiosk(db, settings, kiosk.client, kiosk.outbox, "SPAR-TIR-01")
        )
        visits.append((tablet, (await tablet.by_card(member.card))["session"]))
    results = await asyncio.gather(*(t.spin(s) for t, s in visits))
    won = [r["pointsWon"] for r in results]
    assert sorted(won, reverse=True) == [50] * 4 + [0] * 8, won
    async with db.read_session() as s:
        spent = (await s.execute(select(func.sum(WheelBudgetDay.spent)))).scalar_one()
    assert spent == 200
    assert await _count(db, EntryKind.GAME_PRIZE) == 4
    await ledger_holds()


@requires_postgres
async def test_retried_confirmation_gives_the_same_pickup_code_and_deducts_once(
    kiosk: KioskClient, member: Member, db: Database, cli_env: None
) -> None:
    cheap = min(await kiosk.prizes(), key=lambda p: p["pointsPrice"])
    session = (await kiosk.by_card(member.card))["session"]
    requested = await kiosk.request_exchange(session, cheap["id"])
    code = kiosk.outbox.last_code(member.phone)
    results = await asyncio.gather(
        *(kiosk.confirm_exchange(session, requested["exchangeId"], code) for _ in range(10))
    )
    assert all(r == results[0] for r in results), Counter(str(r) for r in results)
    assert results[0]["__typename"] == "PrizeExchangeConfirmed"
    assert results[0]["balance"] == 80 - cheap["pointsPrice"]
    assert await _count(db, EntryKind.PRIZE_EXCHANGE) == 1
    await ledger_holds()


@requires_postgres
async def test_concurrent_check_ins_credit_one_bonus(
    kiosk: KioskClient, member: Member, db: Database, settings: Settings, cli_env: None
) -> None:
    other = await enrolled_kiosk(db, settings, kiosk.client, kiosk.outbox, "SPAR-TIR-01")
    first = (await kiosk.by_card(member.card))["session"]
    second = (await other.by_card(member.card))["session"]
    calls: list[Any] = []
    for i in range(20):
        tablet, session = (kiosk, first) if i % 2 else (other, second)
        calls.append(tablet.check_in(session))
    results = await asyncio.gather(*calls)
    kinds = Counter(
        r["__typename"] if r["__typename"] == "CheckedIn" else r["code"] for r in results
    )
    assert kinds == {"CheckedIn": 1, "ALREADY_CHECKED_IN": 19}, kinds
    assert await _count(db, EntryKind.CHECK_IN) == 1
    await ledger_holds()
