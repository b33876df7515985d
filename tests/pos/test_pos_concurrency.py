"""Proofs under real concurrency through the doors (PostgreSQL: SQLite serialises writers)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from app import clock
from app.db import Database
from app.ledger.models import EntryKind, PointsEntry
from tests.conftest import requires_postgres
from tests.helpers import Api
from tests.pos.conftest import CLAIM, Member, Pos, claim, give_points, happy, receipt


async def ledger_holds() -> None:
    """``happy ledger check``: every cached balance equals its ledger and its lots."""
    assert await happy(["ledger", "check"]) == 0


@requires_postgres
async def test_50_concurrent_identical_receipts_credit_once(
    spar: Pos, member: Member, api: Api, db: Database, cli_env: None
) -> None:
    body = receipt("RACE-1", member.card)
    answers = await asyncio.gather(*(spar.submit(body) for _ in range(50)))
    assert all(a == answers[0] for a in answers), Counter(a["__typename"] for a in answers)
    assert answers[0]["__typename"] == "ReceiptAccepted" and answers[0]["pointsEarned"] == 11
    async with db.read_session() as session:
        earns = (
            await session.execute(
                select(func.count())
                .select_from(PointsEntry)
                .where(PointsEntry.kind == EntryKind.EARN)
            )
        ).scalar_one()
    assert earns == 1
    assert (await api.me(member.token))["balance"]["available"] == 91
    await ledger_holds()


@requires_postgres
async def test_100_concurrent_redeems_of_one_voucher_one_success(
    spar: Pos, neptun: Pos, member: Member, api: Api, db: Database, cli_env: None
) -> None:
    await give_points(db, member.id, 4920, clock.now())
    code = (await claim(api, member, 1))["vouchers"][0]["code"]
    tills = [spar, neptun]
    results = await asyncio.gather(*(tills[i % 2].redeem(code, f"R-{i}") for i in range(100)))
    kinds = Counter(
        r["__typename"] if r["__typename"] != "VoucherError" else r["code"] for r in results
    )
    assert kinds == {"VoucherRedeemed": 1, "VOUCHER_ALREADY_REDEEMED": 99}
    await ledger_holds()


@requires_postgres
async def test_20_concurrent_claims_on_a_balance_for_one(
    coalition: None, member: Member, api: Api, db: Database, cli_env: None
) -> None:
    await give_points(db, member.id, 4920 + 4999, clock.now())  # 9,999: one level 1, not two

    async def one() -> dict[str, Any]:
        body = await api.gql(CLAIM, {"level": 1}, token=member.token)
        result: dict[str, Any] = body["data"]["claimReward"]
        return result

    results = await asyncio.gather(*(one() for _ in range(20)))
    kinds = Counter(r["__typename"] for r in results)
    assert kinds == {"RewardClaimed": 1, "InsufficientPointsError": 19}
    me = await api.me(member.token)
    assert me["balance"]["available"] == 4999
    await ledger_holds()


@requires_postgres
async def test_20_concurrent_retries_of_one_claim_make_one_claim(
    coalition: None, member: Member, api: Api, db: Database, cli_env: None
) -> None:
    await give_points(db, member.id, 4920 + 5000, clock.now())  # enough for two

    async def one() -> dict[str, Any]:
        body = await api.gql(CLAIM, {"level": 1, "requestId": "tap-1"}, token=member.token)
        result: dict[str, Any] = body["data"]["claimReward"]
        return result

    results = await asyncio.gather(*(one() for _ in range(20)))
    assert {r["__typename"] for r in results} == {"RewardClaimed"}
    assert len({tuple(v["code"] for v in r["vouchers"]) for r in results}) == 1
    me = await api.me(member.token)
    assert me["balance"]["available"] == 5000
    await ledger_holds()


@requires_postgres
async def test_20_concurrent_identical_refunds_reverse_once(
    spar: Pos, member: Member, api: Api, db: Database, cli_env: None
) -> None:
    await spar.submit(receipt("RACE-RF", member.card))
    results = await asyncio.gather(
        *(spar.refund(receiptId="RACE-RF", refundId="RET-1") for _ in range(20))
    )
    assert all(r == results[0] for r in results)
    assert results[0]["pointsReversed"] == 11
    assert (await api.me(member.token))["balance"]["available"] == 80
    async with db.read_session() as session:
        reversals = (
            await session.execute(
                select(func.count())
                .select_from(PointsEntry)
                .where(PointsEntry.kind == EntryKind.REVERSAL)
            )
        ).scalar_one()
    assert reversals == 1
    await ledger_holds()
