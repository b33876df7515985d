"""Fraud limits under real concurrency (PostgreSQL: SQLite serialises every writer)."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func, select

from app.db import Database
from app.fraud.models import FraudAlert, FraudCounter
from app.ledger.models import EntryKind, PointsEntry
from app.receipts.models import Receipt
from tests.conftest import requires_postgres
from tests.fraud.test_fraud_limits import submit
from tests.helpers import Api
from tests.pos.conftest import Member, Pos, happy, receipt


@requires_postgres
async def test_20_concurrent_receipts_crossing_a_hard_daily_limit_pass_only_within_it(
    spar: Pos, neptun: Pos, member: Member, api: Api, db: Database, cli_env: None
) -> None:
    # 11 points each: 9 fit in 100 (99), the other 11 would cross it.
    argv = ["limit", "set", "points_per_member_day", "--severity", "hard", "--value", "100"]
    assert await happy(argv) == 0
    results = await asyncio.gather(
        *(submit(spar, receipt(f"RACE-{i}", member.card)) for i in range(20))
    )
    kinds = Counter(r["__typename"] for r in results)
    assert kinds == {"ReceiptAccepted": 9, "LimitExceededError": 11}, kinds
    assert all(r["attempted"] == 110 for r in results if r["__typename"] == "LimitExceededError")
    async with db.read_session() as session:
        earned = (
            await session.execute(
                select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(
                    PointsEntry.kind == EntryKind.EARN
                )
            )
        ).scalar_one()
        receipts = (await session.execute(select(func.count()).select_from(Receipt))).scalar_one()
        counted = (
            await session.execute(
                select(FraudCounter.value).where(FraudCounter.kind == "points_per_member_day")
            )
        ).scalar_one()
        alert = (await session.execute(select(FraudAlert))).scalar_one()
    assert (earned, receipts, counted) == (99, 9, 99)  # never over the limit
    assert (alert.breaches, alert.refused, alert.observed) == (11, 11, 110)
    assert (await api.me(member.token))["balance"]["available"] == 80 + 99
    assert await happy(["ledger", "check"]) == 0
