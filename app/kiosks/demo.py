"""Kiosk rules, prize catalogue and wheel for every demo store (``happy demo``).

Each store gets a check-in bonus, plays per day, three prizes (one at 80 points or less,
so a brand-new member with the welcome bonus can try an exchange) and a wheel with every
kind of segment. A store that already has prizes or segments keeps them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kiosks import service as kiosks
from app.partners import service as partners
from app.prizes import service as prizes
from app.prizes.models import Prize, SegmentKind, WheelSegment

# (sector) -> [(name, points, stock, image)]
DEMO_PRIZES: dict[str, list[tuple[str, int, int, str]]] = {
    "electronics": [
        ("USB-C cable", 60, 40, "cable"),
        ("Earphones", 400, 15, "earphones"),
        ("Power bank", 900, 8, "battery"),
    ],
    "grocery": [
        ("Chocolate bar", 50, 60, "chocolate"),
        ("Coffee 250 g", 250, 25, "coffee"),
        ("Olive oil 1 L", 700, 12, "bottle"),
    ],
    "toys and home": [
        ("Colouring book", 70, 30, "book"),
        ("Mug", 300, 20, "mug"),
        ("Board game", 1200, 6, "game"),
    ],
    "fashion": [
        ("Tote bag", 80, 30, "bag"),
        ("Socks", 350, 20, "socks"),
        ("Scarf", 1000, 8, "scarf"),
    ],
}

DEMO_WHEEL = [
    prizes.SegmentInput("5 points", SegmentKind.POINTS, 30, points=5),
    prizes.SegmentInput("50 points", SegmentKind.POINTS, 8, points=50, daily_points_budget=500),
    prizes.SegmentInput(
        "5 EUR voucher",
        SegmentKind.VOUCHER,
        2,
        voucher_value=500,
        voucher_currency="EUR",
        stock=10,
    ),
    prizes.SegmentInput("Surprise gift", SegmentKind.GOODS, 5, stock=20),
    prizes.SegmentInput("Try again", SegmentKind.NOTHING, 55),
]
DEMO_CHECK_IN_POINTS = 10
DEMO_PLAYS_PER_DAY = 3


async def seed_kiosk_demo(
    session: AsyncSession, stores: list[tuple[str, str]], now: datetime
) -> None:
    """Kiosk data for ``stores`` (code, sector) that have none yet (idempotent)."""
    for store_code, sector in stores:
        store = await partners.store_by_code(session, store_code)
        if store is None:
            continue
        if await kiosks.store_rules_row(session, store.id) is None:
            await kiosks.set_store_rules(
                session,
                store_code=store_code,
                check_in_points=DEMO_CHECK_IN_POINTS,
                plays_per_day=DEMO_PLAYS_PER_DAY,
                now=now,
            )
        has_prizes = (
            await session.execute(
                select(func.count()).select_from(Prize).where(Prize.store_id == store.id)
            )
        ).scalar_one()
        if not has_prizes:
            for name, points, stock, image in DEMO_PRIZES.get(sector, DEMO_PRIZES["grocery"]):
                await prizes.add_prize(
                    session,
                    store_code=store_code,
                    name=name,
                    points_price=points,
                    stock=stock,
                    image=f"/kiosk/app/img/{image}.svg",
                    now=now,
                )
        has_wheel = (
            await session.execute(
                select(func.count())
                .select_from(WheelSegment)
                .where(WheelSegment.store_id == store.id)
            )
        ).scalar_one()
        if not has_wheel:
            for segment in DEMO_WHEEL:
                await prizes.add_segment(session, store_code=store_code, segment=segment, now=now)
