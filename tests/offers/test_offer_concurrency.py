"""Budgets and uses exactly, under real concurrency through the partner door (PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from app.db import Database
from app.ledger.models import EntryKind, PointsEntry
from app.offers.models import Offer, OfferMember
from tests.conftest import requires_postgres
from tests.helpers import Api
from tests.offers.conftest import create_offer, happy
from tests.pos.conftest import Member, Pos, receipt, sign_up


@requires_postgres
async def test_50_concurrent_receipts_against_a_budget_for_10_bonuses_give_exactly_10(
    spar: Pos, api: Api, db: Database, cli_env: None, tmp_path: Path
) -> None:
    await create_offer(
        tmp_path, mechanic={"kind": "fixed_bonus", "points": 100}, budget=1000, usesPerMember=None
    )
    members = [await sign_up(api, db, f"+35569{1000000 + i}") for i in range(5)]
    bodies = [receipt(f"RACE-{i}", members[i % 5].card) for i in range(50)]
    answers = await asyncio.gather(*(spar.submit(body) for body in bodies))
    assert Counter(a["pointsEarned"] for a in answers) == {111: 10, 11: 40}
    async with db.read_session() as session:
        bonuses = list(
            await session.scalars(
                select(PointsEntry.delta).where(PointsEntry.kind == EntryKind.OFFER_BONUS)
            )
        )
        offer = await session.scalar(select(Offer))
    assert bonuses == [100] * 10
    assert offer is not None and offer.budget_left == 0
    assert await happy(["ledger", "check"]) == 0


@requires_postgres
async def test_uses_per_member_are_never_exceeded_under_concurrent_receipts(
    spar: Pos, member: Member, db: Database, cli_env: None, tmp_path: Path
) -> None:
    await create_offer(tmp_path, mechanic={"kind": "fixed_bonus", "points": 100}, usesPerMember=2)
    answers = await asyncio.gather(
        *(spar.submit(receipt(f"USE-{i}", member.card)) for i in range(20))
    )
    assert Counter(a["pointsEarned"] for a in answers) == {111: 2, 11: 18}
    async with db.read_session() as session:
        state = await session.scalar(select(OfferMember))
    assert state is not None and state.uses == 2
    assert await happy(["ledger", "check"]) == 0
