"""Support tools: ``happy member find|block|unblock``, ``happy points adjust`` and the
operator audit log of every command that changes data."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from app import clock
from app.db import Database
from app.ledger.models import EntryKind, PointsEntry
from app.receipts.models import Receipt
from app.settings import Settings
from app.support.models import OperatorAuditEntry
from tests.conftest import ON_POSTGRES
from tests.helpers import Api, Outbox
from tests.pos.conftest import CLAIM, REDEEM
from tests.toolbox.conftest import Member, Pos, enrolled_kiosk, give_points, public_id, receipt

ME = "query { me { balance { available } } }"
ACTIVITY = "query { me { activity(first: 5) { edges { node { kind points description } } } } }"
REQUEST_EXCHANGE = """
mutation($session: String!, $prizeId: String!) {
  requestPrizeExchange(session: $session, prizeId: $prizeId) {
    __typename ... on Error { code }
  }
}"""


async def audit_rows(db: Database) -> list[OperatorAuditEntry]:
    async with db.read_session() as session:
        return list(
            await session.scalars(select(OperatorAuditEntry).order_by(OperatorAuditEntry.id))
        )


async def test_member_find_is_masked(happy: Any, db: Database, member: Member) -> None:
    pid = await public_id(db, member.id)
    for option, value in (("--phone", "0691234567"), ("--card", member.card)):
        found = await happy("member", "find", option, value)
        assert found.code == 0, found.err
        header, row = found.out.splitlines()
        assert header.startswith("MEMBER\tPHONE\tNAME\tSTATUS\tPOINTS")
        cells = row.split("\t")
        assert cells[0] == pid and cells[1] == "+35569*****67" and cells[3] == "active"
        assert member.phone not in found.out
    missing = await happy("member", "find", "--phone", "+355690000009")
    assert missing.code == 1 and "no active member" in missing.err
    bad = await happy("member", "find", "--phone", "hello")
    assert bad.code == 1 and "INVALID_PHONE" in bad.err
    assert (await happy("member", "find")).code == 2


async def test_a_blocked_member_cannot_earn_or_spend(
    spar: Pos,
    api: Api,
    db: Database,
    member: Member,
    happy: Any,
    settings: Settings,
    client: httpx.AsyncClient,
    outbox: Outbox,
) -> None:
    await give_points(db, member.id, 9920, clock.now())
    claimed = await api.gql(CLAIM, {"level": 1, "requestId": None}, token=member.token)
    voucher = claimed["data"]["claimReward"]["vouchers"][0]["code"]
    tablet = await enrolled_kiosk(db, settings, client, outbox, "SPAR-TIR-01")
    visit = await tablet.by_card(member.card)
    prizes = await tablet.prizes()
    pid = await public_id(db, member.id)

    blocked = await happy("member", "block", pid, "--reason", "cashier fraud case 118")
    assert blocked.code == 0 and "blocked" in blocked.out
    assert "already blocked" in (await happy("member", "block", member.card, "--reason", "x")).out

    refused = await spar.submit(receipt("BLOCKED-1", member.card))
    assert refused["__typename"] == "MemberBlockedError" and refused["code"] == "MEMBER_BLOCKED"
    async with db.read_session() as session:
        assert await session.scalar(select(func.count()).select_from(Receipt)) == 0
    redeemed = await spar.call(REDEEM, "redeemVoucher", {"code": voucher, "receiptId": "R-9"})
    assert redeemed["__typename"] == "MemberBlockedError"
    again = await api.gql(CLAIM, {"level": 1, "requestId": None}, token=member.token)
    assert again["data"]["claimReward"]["code"] == "MEMBER_BLOCKED"
    assert prizes, "the demo store has a prize catalogue"
    exchange = await tablet.call(
        REQUEST_EXCHANGE,
        "requestPrizeExchange",
        {"session": visit["session"], "prizeId": prizes[0]["id"]},
    )
    assert exchange["code"] == "MEMBER_BLOCKED"
    checked_in = await tablet.check_in(visit["session"])
    assert checked_in["__typename"] == "MemberBlockedError", checked_in
    spun = await tablet.spin(visit["session"])
    assert spun["__typename"] == "MemberBlockedError", spun
    # Read-only access stays: the member signs in and sees their balance.
    me = await api.gql(ME, token=member.token)
    assert me["data"]["me"]["balance"]["available"] == 5000
    found = await happy("member", "find", "--card", member.card)
    assert "\tblocked\t" in found.out and "cashier fraud case 118" in found.out

    assert (await happy("member", "unblock", pid, "--reason", "")).code == 1  # reason needed
    unblocked = await happy("member", "unblock", pid, "--reason", "case closed")
    assert unblocked.code == 0 and "unblocked" in unblocked.out
    assert "was not blocked" in (await happy("member", "unblock", pid, "--reason", "x")).out
    earned = await spar.submit(receipt("BLOCKED-1", member.card))
    assert earned["__typename"] == "ReceiptAccepted"
    assert (await spar.call(REDEEM, "redeemVoucher", {"code": voucher, "receiptId": "R-9"}))[
        "__typename"
    ] == "VoucherRedeemed"


async def test_points_adjust_writes_the_ledger_and_the_audit_log(
    coalition: None,
    happy: Any,
    api: Api,
    db: Database,
    member: Member,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HAPPY_OPERATOR", "ana.support")
    pid = await public_id(db, member.id)
    done = await happy("points", "adjust", pid, "+500", "--reason", "missing receipt 4411")
    assert done.code == 0, done.err
    assert done.out.strip() == f"member {pid}: +500 points, balance 580"
    taken = await happy("points", "adjust", member.card, "-30", "--reason", "double credit")
    assert taken.code == 0 and "balance 550" in taken.out

    too_much = await happy("points", "adjust", pid, "-551", "--reason", "oops")
    assert too_much.code == 1 and "below zero" in too_much.err
    assert (await happy("points", "adjust", pid, "500", "--reason", "x")).code == 2  # unsigned
    assert (await happy("points", "adjust", pid, "+0", "--reason", "x")).code == 2
    assert (await happy("points", "adjust", pid, "+5", "--reason", "  ")).code == 1
    assert (await happy("points", "adjust", "nobody", "+5", "--reason", "x")).code == 1

    async with db.read_session() as session:
        entries = list(
            await session.scalars(
                select(PointsEntry)
                .where(PointsEntry.kind == EntryKind.ADJUSTMENT)
                .order_by(PointsEntry.id)
            )
        )
    assert [(e.delta, e.description, e.reference_id) for e in entries] == [
        (500, "missing receipt 4411", "ana.support"),
        (-30, "double credit", "ana.support"),
    ]
    assert entries[0].expires_at is not None  # a credit is a lot that expires
    activity = await api.gql(ACTIVITY, token=member.token)
    assert activity["data"]["me"]["activity"]["edges"][0]["node"] == {
        "kind": "ADJUSTMENT",
        "points": -30,
        "description": "double credit",
    }

    rows = await audit_rows(db)
    assert [(r.command, r.operator) for r in rows[:2]] == [
        ("points adjust", "ana.support"),
        ("points adjust", "ana.support"),
    ]
    assert json.loads(rows[0].arguments) == {
        "member": pid,
        "points": 500,
        "reason": "missing receipt 4411",
    }
    assert rows[0].outcome == "ok"
    assert rows[2].outcome.startswith("failed: the member has fewer than 551 points")
    # Usage mistakes never ran a command: not in the log.
    assert len([r for r in rows if r.command == "points adjust"]) == 5

    listed = await happy("audit", "list", "--operator", "ana.support", "--limit", "2")
    header, *lines = listed.out.splitlines()
    assert header.split("\t")[:4] == ["WHEN (UTC)", "OPERATOR", "COMMAND", "OUTCOME"]
    assert len(lines) == 2 and all("\tpoints adjust\t" in line for line in lines)
    assert (await happy("audit", "list", "--since", "tomorrow")).code == 2
    assert (await happy("audit", "list", "--limit", "5000")).code == 1
    assert (await happy("ledger", "check")).code == 0


async def test_every_changing_command_is_audited_without_secrets(
    coalition: None, happy: Any, db: Database
) -> None:
    before = len(await audit_rows(db))
    assert (await happy("store", "list")).code == 0  # reads: not audited
    assert (await happy("partner", "key", "list")).code == 0
    assert len(await audit_rows(db)) == before

    made = await happy("partner", "key", "create", "--store", "SPAR-TIR-01", "--label", "till 3")
    assert made.code == 0
    key = made.out.splitlines()[-1]
    assert (await happy("kiosk", "pin", "--store", "SPAR-TIR-01", "--pin", "4821")).code == 0
    assert (await happy("partner", "key", "revoke", key)).code == 0
    assert (await happy("partner", "key", "revoke", "nope")).code == 1

    rows = (await audit_rows(db))[before:]
    assert [r.command for r in rows] == [
        "partner key create",
        "kiosk pin",
        "partner key revoke",
        "partner key revoke",
    ]
    secret = key.split("_", 2)[2]
    assert all(secret not in r.arguments and "4821" not in r.arguments for r in rows)
    assert json.loads(rows[1].arguments)["pin"] == "[redacted]"
    assert json.loads(rows[2].arguments)["prefix"].endswith("_[redacted]")
    assert rows[3].outcome.startswith("failed: no API key")


@pytest.mark.skipif(not ON_POSTGRES, reason="the append-only trigger exists on PostgreSQL only")
async def test_the_audit_log_refuses_updates_and_deletes_on_postgresql(
    coalition: None, happy: Any, db: Database
) -> None:
    assert (await happy("store", "close", "SPAR-TIR-02")).code == 0
    for statement in ("UPDATE operator_audit SET outcome = 'x'", "DELETE FROM operator_audit"):
        with pytest.raises(Exception, match="append-only"):
            async with db.unit_of_work() as session:
                await session.execute(text(statement))
    assert len(await audit_rows(db)) == 1
