"""Offers through the doors: the operator creates them (CLI), members see and activate them
(member door), tills apply them (partner door), returns take back what no longer qualifies."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from app import clock
from app.db import Database
from app.ledger.models import EntryKind, PointsEntry
from app.offers.models import Offer
from tests.helpers import Api
from tests.offers.conftest import activate, create_offer, happy, member_offers, offer_file
from tests.pos.conftest import IMPORT, Member, Pos, receipt

ACTIVITY = """
query { me { activity(first: 20) { edges { node { kind points description
  receipt { receiptId } } } } } }"""

RECEIPTS = """
query { me { receipts(first: 5) { edges { node { receiptId pointsEarned
  breakdown { kind rule points title offerId } } } } } }"""


async def entries(db: Database, kind: EntryKind) -> list[int]:
    async with db.read_session() as session:
        rows = await session.scalars(
            select(PointsEntry.delta).where(PointsEntry.kind == kind).order_by(PointsEntry.id)
        )
        return list(rows)


async def test_a_member_sees_activates_and_earns_an_offer_and_a_return_takes_it_back(
    spar: Pos, member: Member, api: Api, db: Database, cli_env: None, tmp_path: Path
) -> None:
    await create_offer(
        tmp_path,
        mechanic={"kind": "fixed_bonus", "points": 100},
        activation="required",
        usesPerMember=1,
    )
    [offer] = await member_offers(api, member.token)
    assert offer["title"] == "Bonus Spar"  # the member's language (sq)
    assert offer["needsActivation"] and not offer["activated"] and offer["usesLeft"] == 1
    assert offer["places"] == [{"partner": "Spar", "store": None, "city": None}]

    # Not activated yet: the till gives nothing.
    first = await spar.submit(receipt("R-1", member.card))
    assert first["pointsEarned"] == 11

    done = await activate(api, member.token, offer["id"])
    assert done["__typename"] == "Offer" and done["activated"]
    again = await activate(api, member.token, offer["id"])
    assert again["code"] == "OFFER_ALREADY_ACTIVE" and again["message"]

    second = await spar.submit(receipt("R-2", member.card))
    assert second["pointsEarned"] == 111
    bonus = [b for b in second["breakdown"] if b["kind"] == "OFFER"]
    assert bonus == [
        {"kind": "OFFER", "rule": bonus[0]["rule"], "multiplierPercent": 0, "amount": 68000,
         "points": 100}
    ]  # fmt: skip
    assert sum(b["points"] for b in second["breakdown"]) == 111
    assert await entries(db, EntryKind.OFFER_BONUS) == [100]

    body = await api.gql(RECEIPTS, token=member.token)
    shown = body["data"]["me"]["receipts"]["edges"][0]["node"]
    assert shown["pointsEarned"] == 111
    offer_item = next(b for b in shown["breakdown"] if b["kind"] == "OFFER")
    assert offer_item["title"] == "Bonus Spar" and offer_item["offerId"] == offer["id"]
    activity = (await api.gql(ACTIVITY, token=member.token))["data"]["me"]["activity"]["edges"]
    kinds = [(e["node"]["kind"], e["node"]["points"]) for e in activity]
    assert ("OFFER_BONUS", 100) in kinds

    # Used once: the third receipt gets no bonus, and the offer is no longer shown.
    third = await spar.submit(receipt("R-3", member.card))
    assert third["pointsEarned"] == 11
    assert await member_offers(api, member.token) == []

    # The whole receipt goes back: the base points and the bonus, never more.
    refund = await spar.refund(receiptId="R-2", refundId="F-1")
    assert refund["__typename"] == "ReceiptRefunded"
    assert -sum(await entries(db, EntryKind.REVERSAL)) == 111
    retry = await spar.refund(receiptId="R-2", refundId="F-1")
    assert retry == refund
    assert -sum(await entries(db, EntryKind.REVERSAL)) == 111


async def test_an_automatic_multiplier_applies_on_its_brand_after_the_tier(
    spar: Pos, member: Member, api: Api, db: Database, cli_env: None, tmp_path: Path
) -> None:
    await create_offer(
        tmp_path,
        title={"en": "Double on Spar milk", "sq": "Dyfish te qumështi Spar"},
        mechanic={"kind": "multiplier", "percent": 200, "on": {"brands": ["Spar"]}},
    )
    answer = await spar.submit(receipt("R-1", member.card))
    # Milk: 4.5 points at 200 % -> 9, doubled by the offer: +9; bread 2.3: 20 in total.
    assert answer["pointsEarned"] == 20
    offer = [b for b in answer["breakdown"] if b["kind"] == "OFFER"]
    assert len(offer) == 1 and offer[0]["points"] == 9 and offer[0]["multiplierPercent"] == 200
    assert await entries(db, EntryKind.OFFER_BONUS) == [9]
    assert await entries(db, EntryKind.EARN) == [11]
    # A partial return of the milk takes back in proportion (never more than given).
    refund = await spar.refund(receiptId="R-1", refundId="F-1", lines=[{"lineNumber": 1}])
    assert refund["pointsReversed"] == 18


async def test_spend_x_in_one_receipt_and_a_segment_the_member_is_not_in(
    spar: Pos, member: Member, api: Api, db: Database, cli_env: None, tmp_path: Path
) -> None:
    await create_offer(
        tmp_path,
        "spend",
        mechanic={"kind": "spend_get", "spend": 60000, "currency": "ALL", "points": 50},
    )
    await create_offer(tmp_path, "city", segment={"kind": "city", "city": "Vlorë"})
    shown = await member_offers(api, member.token)
    assert len(shown) == 1  # not the Vlorë members' offer
    # Tobacco (excluded) does not count towards the spend: 450 + 230 ALL qualify.
    answer = await spar.submit(receipt("R-1", member.card))
    assert answer["pointsEarned"] == 61
    small = receipt("R-2", member.card, lines=[receipt("x", None)["lines"][2]])
    assert (await spar.submit(small))["pointsEarned"] == 2


async def test_an_aggregated_offer_completes_across_three_receipts_one_offline(
    spar: Pos, member: Member, api: Api, db: Database, cli_env: None, tmp_path: Path
) -> None:
    await create_offer(
        tmp_path,
        mechanic={"kind": "aggregate_spend", "spend": 150000, "currency": "ALL", "points": 500},
        activation="required",
    )
    [offer] = await member_offers(api, member.token)
    assert offer["progress"] == {"current": 0, "target": 150000, "unit": "ALL"}
    await activate(api, member.token, offer["id"])
    assert (await spar.submit(receipt("R-1", member.card)))["pointsEarned"] == 11
    [offer] = await member_offers(api, member.token)
    assert offer["progress"]["current"] == 68000
    assert (await spar.submit(receipt("R-2", member.card)))["pointsEarned"] == 11
    # The crossing receipt comes in an offline batch, issued an hour ago.
    earlier = (clock.now() - timedelta(hours=1)).isoformat()
    line = json.dumps(receipt("R-3", member.card, issued_at=earlier))
    report = await spar.call(IMPORT, "importReceipts", {"lines": line})
    assert report["lines"][0]["pointsEarned"] == 511
    assert await entries(db, EntryKind.OFFER_BONUS) == [500]
    assert await member_offers(api, member.token) == []  # done: once
    assert (await spar.submit(receipt("R-4", member.card)))["pointsEarned"] == 11
    # A return that takes the total below the threshold takes the bonus back.
    await spar.refund(receiptId="R-1", refundId="F-1")
    assert -sum(await entries(db, EntryKind.REVERSAL)) == 11 + 500


async def test_offer_files_are_checked_with_the_field_named(
    coalition: None, cli_env: None, tmp_path: Path, capsys: Any
) -> None:
    bad = offer_file(tmp_path, mechanic={"kind": "fixed_bonus", "points": -5})
    assert await happy(["offer", "create", str(bad)]) == 2
    assert "mechanic.points" in capsys.readouterr().err
    unknown = offer_file(tmp_path, funder="NOPE")
    assert await happy(["offer", "create", str(unknown)]) == 2
    assert "funder" in capsys.readouterr().err
    yaml_file = tmp_path / "offer.yaml"
    yaml_file.write_text("title: {en: [\n")
    assert await happy(["offer", "create", str(yaml_file)]) == 2
    assert "JSON or YAML" in capsys.readouterr().err
    good = tmp_path / "good.yaml"
    now = clock.now()
    good.write_text(
        "title: {en: Jumbo bonus, sq: Bonus Jumbo}\nfunder: JUMBO\n"
        f"validFrom: '{now.isoformat()}'\nvalidUntil: '{(now + timedelta(days=3)).isoformat()}'\n"
        "mechanic: {kind: fixed_bonus, points: 40}\nbudget: 400\n"
    )
    assert await happy(["offer", "create", str(good)]) == 0
    assert await happy(["offer", "pause", "1"]) == 0
    assert await happy(["offer", "resume", "1"]) == 0
    assert await happy(["offer", "stats", "1"]) == 0
    assert "400 of 400 left" in capsys.readouterr().out


async def test_evaluating_200_live_offers_costs_at_most_two_queries_per_receipt(
    spar: Pos, member: Member, api: Api, db: Database, cli_env: None, tmp_path: Path
) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    async def queries_for(receipt_id: str) -> int:
        statements.clear()
        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            answer = await spar.submit(receipt(receipt_id, member.card))
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        assert answer["pointsEarned"] == 11
        return len(
            [s for s in statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))]
        )

    await spar.submit(receipt("WARM-UP", member.card))
    await spar.submit(receipt("WARM-UP-2", member.card))
    without = await queries_for("R-0")
    path = offer_file(tmp_path, funder="JUMBO", activation="required")
    async with db.unit_of_work() as session:
        from app.offers.definition import load_text, parse_offer
        from app.offers.service import create_offer as create

        for _ in range(200):
            await create(session, parse_offer(load_text(path.read_text())), clock.now())
        assert await session.scalar(select(func.count()).select_from(Offer)) == 200
    with_offers = await queries_for("R-1")
    assert with_offers <= without + 2, (without, with_offers)


async def test_an_aggregate_completed_again_after_a_return_is_taken_back_once(
    spar: Pos, member: Member, db: Database, cli_env: None, tmp_path: Path
) -> None:
    """Completed, reopened by a return, completed again: a later return takes back the
    award still standing (not a 500 because two awards exist), and only once."""
    await create_offer(
        tmp_path,
        mechanic={"kind": "aggregate_spend", "spend": 150000, "currency": "ALL", "points": 500},
    )
    for receipt_id in ("AG-1", "AG-2"):
        await spar.submit(receipt(receipt_id, member.card))
    assert (await spar.submit(receipt("AG-3", member.card)))["pointsEarned"] == 511
    assert (await spar.refund(receiptId="AG-3", refundId="AG-F3"))["__typename"] == (
        "ReceiptRefunded"
    )
    await spar.submit(receipt("AG-4", member.card))
    assert await entries(db, EntryKind.OFFER_BONUS) == [500, 500]
    first = await spar.refund(receiptId="AG-1", refundId="AG-F1")
    assert first["__typename"] == "ReceiptRefunded", first
    assert await spar.refund(receiptId="AG-1", refundId="AG-F1") == first  # a retry
