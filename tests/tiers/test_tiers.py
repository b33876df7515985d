"""Tiers through the doors: up on the crossing receipt, the pass shows it, the review."""

from __future__ import annotations

from app import clock
from app.db import Database
from app.events import TierChanged
from app.wallet import service as wallet
from tests.helpers import Api
from tests.pos.conftest import Member, Pos, claim, happy, receipt, sign_up

TIER = "query { me { tier { code name nextTier pointsToNext qualifyingPoints keptUntil } } }"


def big(receipt_id: str, card: str, amount: int) -> dict[str, object]:
    line = {
        "sku": "TV-55",
        "name": "TV",
        "brand": None,
        "category": "electronics",
        "quantity": "1",
        "unitPrice": amount,
        "amount": amount,
    }
    return receipt(receipt_id, card, lines=[line])


async def test_a_member_crossing_5000_in_12_months_is_happy_plus_on_the_next_me_and_pass(
    spar: Pos, member: Member, api: Api, db: Database, cli_env: None
) -> None:
    tier = (await api.gql(TIER, token=member.token))["data"]["me"]["tier"]
    assert tier["name"] == "Happy" and tier["nextTier"] == "Happy+"
    assert tier["pointsToNext"] == 5000  # the welcome bonus does not count

    # 4,999 points: not yet; the next receipt crosses the line (same transaction).
    await spar.submit(big("R-1", member.card, 49_990_000))
    tier = (await api.gql(TIER, token=member.token))["data"]["me"]["tier"]
    assert tier["name"] == "Happy" and tier["pointsToNext"] == 1
    crossing = await spar.submit(big("R-2", member.card, 10_000))
    assert crossing["pointsEarned"] == 1  # the old rate on the crossing receipt
    tier = (await api.gql(TIER, token=member.token))["data"]["me"]["tier"]
    assert tier["name"] == "Happy+" and tier["nextTier"] is None and tier["keptUntil"]

    async with db.read_session() as session:
        subject = await wallet.save_link_subject(session, member.id)
        state = await wallet.google_object_state(session, member.id)
    assert subject is not None and subject.tier == "Happy+"
    assert state is None or state.tier == "Happy+"

    # Happy+ earns 25 % more: 100 points of spend -> 125, the tier its own breakdown item.
    after = await spar.submit(big("R-3", member.card, 1_000_000))
    assert after["pointsEarned"] == 125
    assert [b["kind"] for b in after["breakdown"]] == ["BASE", "TIER"]

    # Returns drop the points below the line, but the tier is kept until its period ends.
    await spar.refund(receiptId="R-1", refundId="F-1")
    tier = (await api.gql(TIER, token=member.token))["data"]["me"]["tier"]
    assert tier["name"] == "Happy+"
    assert await happy(["tiers", "review"]) == 0  # period not over: kept
    tier = (await api.gql(TIER, token=member.token))["data"]["me"]["tier"]
    assert tier["name"] == "Happy+"


async def test_the_review_moves_members_down_after_their_period(
    spar: Pos, member: Member, api: Api, db: Database, cli_env: None
) -> None:
    from dateutil.relativedelta import relativedelta

    from app.tiers import service as tiers

    await spar.submit(big("R-1", member.card, 50_000_000))
    await spar.refund(receiptId="R-1", refundId="F-1")
    later = clock.now() + relativedelta(months=13)
    published: list[object] = []
    async with db.unit_of_work() as session:
        db.events.in_transaction(TierChanged, lambda _s, e: _record(published, e))
        report = await tiers.review(session, later)
    assert report.moved_down == 1
    assert [getattr(e, "tier", None) for e in published] == ["happy"]
    tier = (await api.gql(TIER, token=member.token))["data"]["me"]["tier"]
    assert tier["name"] == "Happy"


async def _record(found: list[object], event: object) -> None:
    found.append(event)


async def test_tiers_are_programme_data(coalition: None, cli_env: None, capsys: object) -> None:
    assert await happy(["tier", "set", "happy_plus", "--name", "Happy+", "--threshold", "4000",
                        "--earn-bonus", "30"]) == 0  # fmt: skip
    assert await happy(["tier", "list"]) == 0
    assert await happy(["tier", "set", "x", "--name", "X", "--threshold", "4000"]) == 1


async def test_buy_spend_return_never_lifts_a_member_a_tier(
    spar: Pos, member: Member, api: Api, db: Database, cli_env: None
) -> None:
    """Points already spent when the purchase comes back are uncollected, not reversed in
    the ledger: they still leave the qualifying points."""
    await spar.submit(big("NET-1", member.card, 49_990_000))
    for level in (5, 4, 3, 2, 1) * 6:
        await claim(api, member, level)
    refund = await spar.refund(receiptId="NET-1", refundId="NET-1-R")
    assert refund["pointsUncollected"] > 0, refund
    tier = (await api.gql(TIER, token=member.token))["data"]["me"]["tier"]
    assert tier["qualifyingPoints"] == 0, tier
    await spar.submit(big("NET-2", member.card, 10_000))
    tier = (await api.gql(TIER, token=member.token))["data"]["me"]["tier"]
    assert tier["name"] == "Happy", tier


async def test_moving_up_sends_you_are_happy_plus_now_once(
    spar: Pos, member: Member, db: Database, cli_env: None
) -> None:
    from sqlalchemy import select

    from app.messages.models import MemberMessage

    await spar.submit(big("UP-1", member.card, 49_990_000))
    await spar.submit(big("UP-2", member.card, 10_000))  # crosses 5,000
    await spar.submit(big("UP-3", member.card, 10_000))  # already Happy+: no second message
    async with db.read_session() as session:
        kinds = list(
            await session.scalars(
                select(MemberMessage.kind).where(MemberMessage.member_id == member.id)
            )
        )
    assert kinds.count("tier_up") == 1, kinds


async def test_a_receipt_earns_with_its_own_members_tier_when_others_hold_tiers(
    spar: Pos, member: Member, api: Api, db: Database
) -> None:
    """The member's tier is read in the receipt's member statement: it must be this
    member's (the subquery once read every member's tier row: another member's bonus on
    SQLite, and an error on PostgreSQL once two members held a tier)."""
    second = await sign_up(api, db, "+355691234568")
    plain = await sign_up(api, db, "+355691234569")
    for n, someone in enumerate((member, second)):
        crossed = await spar.submit(big(f"R-UP-{n}", someone.card, 50_000_000))
        assert crossed["__typename"] == "ReceiptAccepted", crossed
    # Two members hold Happy+: each earns +25 %, the third member the base rate.
    for n, (someone, points) in enumerate(((member, 125), (second, 125), (plain, 100))):
        answer = await spar.submit(big(f"R-AFTER-{n}", someone.card, 1_000_000))
        assert answer["__typename"] == "ReceiptAccepted", answer
        assert answer["pointsEarned"] == points, (someone.phone, answer)
