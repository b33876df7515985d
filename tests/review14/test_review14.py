"""Review of issue 14 (reviewer review14): regression tests for money bugs found on main."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select

from app.db import Database
from app.programme.models import Programme
from app.rewards.models import VoucherRedemption
from app.settings import Settings
from app.settlement import service as settlement
from tests.helpers import Api
from tests.pos.conftest import Pos, claim, demo, happy, make_key, receipt, sign_up


def _line(amount: int, sku: str = "BREAD-500") -> list[dict[str, Any]]:
    return [
        {
            "sku": sku,
            "name": "Bukë",
            "brand": None,
            "category": "bakery",
            "quantity": "1",
            "unitPrice": amount,
            "amount": amount,
        }
    ]


async def test_demo_writes_its_limits_version_and_redemption_threshold(
    db: Database, frozen_now: list[Any]
) -> None:
    """`happy demo` must leave limits in force and the 9.60 EUR threshold: both are set on
    get_programme()'s detached cached copy (app/fraud/service.py _limits_changed,
    app/demo.py seed_redemption_demo) and never reach the database."""
    frozen_now[0] = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    await demo(db)
    async with db.read_session() as session:
        row = (await session.execute(select(Programme))).scalar_one()
    assert row.limits_version, "limits exist but limits_version is empty: no limit is checked"
    assert row.redemption_confirmation_eur == 960


async def test_a_hard_limit_set_by_the_cli_refuses_the_next_receipt(
    api: Api,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    frozen_now: list[Any],
    cli_env: None,
) -> None:
    frozen_now[0] = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    await demo(db)
    spar = Pos(client, await make_key(db, settings, "SPAR-TIR-01"))
    ana = await sign_up(api, db, "+355691110001")
    assert (
        await happy(["limit", "set", "points_per_receipt", "--severity", "hard", "--value", "10"])
        == 0
    )
    answer = await spar.submit(receipt("BIG-1", ana.card, lines=_line(60_000_000)))
    assert answer["__typename"] == "LimitExceededError", answer


async def test_settlement_values_vouchers_in_eur_not_in_their_own_currency(
    api: Api,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    frozen_now: list[Any],
    cli_env: None,
) -> None:
    """A reward level in ALL: the redemption stores eur_amount, but the report sums
    value_amount (ALL minor units) into the EUR column (app/settlement/service.py _compute)."""
    frozen_now[0] = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    await demo(db)
    assert (
        await happy(
            [
                "reward-level", "set", "3", "--points", "100", "--vouchers", "1",
                "--value", "100000", "--currency", "ALL",
            ]
        )
        == 0
    )  # fmt: skip
    # ~9.98 EUR would need the member's SMS code under the demo's 9.60 EUR threshold.
    assert await happy(["programme", "set", "--redemption-threshold", "off"]) == 0
    spar = Pos(client, await make_key(db, settings, "SPAR-TIR-01"))
    ana = await sign_up(api, db, "+355691110001")
    await spar.submit(receipt("R1", ana.card, lines=_line(1_000_000)))
    claimed = await claim(api, ana, 3)
    assert claimed["__typename"] == "RewardClaimed", claimed
    code = claimed["vouchers"][0]["code"]
    redeemed = await spar.redeem(code, "S-1")
    assert redeemed["__typename"] == "VoucherRedeemed", redeemed
    async with db.read_session() as session:
        found = await settlement.report(session, "2026-11", frozen_now[0])
    async with db.read_session() as session:
        stored_eur = (await session.execute(select(VoucherRedemption.eur_amount))).scalar_one()
    # 1,000.00 ALL is about 10 EUR (~1000 cents), not 100,000 "EUR cents".
    assert found.totals.vouchers_value_cents == stored_eur, (found.totals, stored_eur)


async def test_a_refund_at_one_partner_is_not_counted_as_another_partners_reversal(
    api: Api,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    frozen_now: list[Any],
    cli_env: None,
) -> None:
    """Neptun's receipt points were spent on a reward; Neptun refunds the receipt. The
    reversal takes the receipt's own lot first, then the member's oldest lots, which are
    Spar's: the report books Neptun's refund as Spar's "points reversed" and lowers Spar's
    liability for a refund it never made (app/ledger/service.py _consume_lots with
    consume_first_lot_of; app/settlement/service.py counts consumptions by lot funder)."""
    frozen_now[0] = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    await demo(db)
    spar = Pos(client, await make_key(db, settings, "SPAR-TIR-01"))
    neptun = Pos(client, await make_key(db, settings, "NEP-PRN-01"))
    ana = await sign_up(api, db, "+355691110001")
    n1 = await neptun.submit(
        receipt("N1", ana.card, lines=_line(600_000, "NEP-TV"), currency="EUR")
    )
    assert n1["__typename"] == "ReceiptAccepted", n1
    frozen_now[0] = datetime(2026, 11, 4, 10, 0, tzinfo=UTC)
    s1 = await spar.submit(receipt("S1", ana.card, lines=_line(60_000_000)))
    assert s1["__typename"] == "ReceiptAccepted", s1
    frozen_now[0] = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)
    ana = await sign_up(api, db, ana.phone)  # the first session ended
    claimed = await claim(api, ana, 1)  # 5,000 points: welcome, then Neptun's lot first
    assert claimed["__typename"] == "RewardClaimed", claimed
    frozen_now[0] = datetime(2026, 11, 6, 10, 0, tzinfo=UTC)
    refund = await neptun.refund(
        receiptId="N1", refundId="RF1", lines=[{"lineNumber": 1, "amount": 600_000}]
    )
    assert refund["pointsReversed"] > 0, refund
    async with db.read_session() as session:
        found = await settlement.report(session, "2026-11", frozen_now[0])
        partners = {ln.partner_code: ln for ln in found.lines if ln.kind == "partner"}
    assert partners["SPAR"].points_reversed == 0, partners["SPAR"]
    assert partners["NEPTUN"].points_reversed == refund["pointsReversed"], partners["NEPTUN"]
