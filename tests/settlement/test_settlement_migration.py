"""Migration 0012_settlement on a database with history: funders and consumptions rebuilt."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from alembic import command
from app.db import Database, create_database
from app.ledger.service import find_discrepancies
from app.main import create_app
from app.migrations import alembic_config, upgrade
from app.settings import Settings
from tests.helpers import Api, Outbox
from tests.pos.conftest import Pos, claim, demo, give_points, make_key, receipt, sign_up

LOTS = "SELECT entry_id, funded_by_partner_id FROM points_lots ORDER BY entry_id"
CONSUMED = (
    "SELECT c.entry_id, l.entry_id, c.points FROM points_consumptions c "
    "JOIN points_lots l ON l.id = c.lot_id ORDER BY c.entry_id, l.entry_id"
)


async def _rows(db: Database, sql: str) -> list[tuple[object, ...]]:
    async with db.read_session() as session:
        return [tuple(row) for row in (await session.execute(text(sql))).all()]


async def _again(url: str) -> None:
    def run() -> None:
        command.downgrade(alembic_config(url), "0009_messages")
        upgrade(url)

    await asyncio.to_thread(run)


async def test_history_gets_its_funders_and_consumptions(
    settings: Settings, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'history.db'}"
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("migrates its own SQLite file; the PostgreSQL run covers the doors")
    await asyncio.to_thread(upgrade, url)
    own = replace(settings, database_url=url)
    db = create_database(own)
    transport = httpx.ASGITransport(app=create_app(own, db), client=("203.0.113.10", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            api = Api(c, Outbox(own.sms_outbox))
            await demo(db)
            spar = Pos(c, await make_key(db, own, "SPAR-TIR-01"))
            member = await sign_up(api, db, "+355691110009")
            await spar.submit(receipt("H1", member.card))
            await spar.refund(receiptId="H1", refundId="H1-R")  # the whole receipt back
            from app import clock

            await give_points(db, member.id, 5000, clock.now())
            assert (await claim(api, member, 1))["__typename"] == "RewardClaimed"
        lots, consumed = await _rows(db, LOTS), await _rows(db, CONSUMED)
        assert len(lots) == 3 and sum(1 for _, funder in lots if funder is not None) == 1
        assert len(consumed) >= 2
    finally:
        await db.dispose()

    # Rebuilt from history: the same funders and the same consumptions.
    await _again(url)
    db = create_database(own)
    try:
        assert await _rows(db, LOTS) == lots
        assert await _rows(db, CONSUMED) == consumed
        async with db.read_session() as session:
            assert await find_discrepancies(session) == []
        # A history the replay cannot explain (points moved between two lots by hand) is
        # recorded as consumptions without a debit entry, and the ledger check still holds.
        async with db.engine.begin() as conn:
            await conn.execute(text("UPDATE points_lots SET remaining = points"))
            await conn.execute(
                text(
                    "UPDATE points_lots SET remaining = 0 WHERE id = "
                    "(SELECT MAX(id) FROM points_lots)"
                )
            )
            total = (await conn.execute(text("SELECT SUM(delta) FROM points_entries"))).scalar_one()
            left = (await conn.execute(text("SELECT SUM(remaining) FROM points_lots"))).scalar_one()
            oldest = (await conn.execute(text("SELECT MIN(id) FROM points_lots"))).scalar_one()
            await conn.execute(
                text("UPDATE points_lots SET remaining = remaining - :d WHERE id = :i"),
                {"d": left - total, "i": oldest},
            )
        await db.dispose()
        await _again(url)
        db = create_database(own)
        unexplained = await _rows(db, "SELECT entry_id FROM points_consumptions")
        assert unexplained and all(entry is None for (entry,) in unexplained)
        async with db.read_session() as session:
            assert await find_discrepancies(session) == []
    finally:
        await db.dispose()
