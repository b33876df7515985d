"""Review of issue 14 (reviewer review14): regression tests for money bugs found on main."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from app.db import Database
from app.settings import Settings
from app.settlement import service as settlement
from tests.helpers import Api
from tests.pos.conftest import Pos, claim, demo, make_key, receipt, sign_up


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
