"""Fraud limits through the doors: a hard limit refuses and writes nothing but its alert, a
soft limit warns and alerts, replays count once, the operator's CLI, and the cost."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from app import clock, programme_cache
from app.db import Database
from app.fraud.models import FraudAlert, FraudCounter
from app.fraud.service import LimitWarning
from app.ledger.models import EntryKind, PointsEntry
from app.receipts.answers import ReceiptAnswer
from app.receipts.models import Receipt
from tests.helpers import Api
from tests.pos.conftest import (
    IMPORT,
    VALIDATE,
    Member,
    Pos,
    claim,
    give_points,
    happy,
    receipt,
)

SUBMIT = """
mutation($input: ReceiptInput!) {
  submitReceipt(input: $input) {
    __typename
    ... on ReceiptAccepted {
      receiptId pointsEarned balance
      warnings { code message limitKind limit value }
    }
    ... on LimitExceededError { code message limitKind limit attempted }
    ... on Error { code message field }
  }
}"""

REDEEM = """
mutation($code: String!, $receiptId: String!) {
  redeemVoucher(code: $code, receiptId: $receiptId) {
    __typename
    ... on VoucherRedeemed { receiptId warnings { code message limitKind limit value } }
    ... on LimitExceededError { code message limitKind limit attempted }
    ... on Error { code message field }
  }
}"""


async def submit(pos: Pos, body: dict[str, Any]) -> dict[str, Any]:
    return await pos.call(SUBMIT, "submitReceipt", {"input": body})


async def redeem(pos: Pos, code: str, receipt_id: str) -> dict[str, Any]:
    return await pos.call(REDEEM, "redeemVoucher", {"code": code, "receiptId": receipt_id})


async def count(db: Database, stmt: Any) -> int:
    async with db.read_session() as session:
        return int((await session.execute(stmt)).scalar_one())


async def alerts(db: Database) -> list[FraudAlert]:
    async with db.read_session() as session:
        return list((await session.execute(select(FraudAlert).order_by(FraudAlert.id))).scalars())


async def balance(api: Api, member: Member) -> int:
    me = await api.me(member.token)
    return int(me["balance"]["available"])


# --- hard limits ---------------------------------------------------------------------------


async def test_a_hard_limit_refuses_the_receipt_and_writes_nothing_but_the_alert(
    spar: Pos, member: Member, api: Api, db: Database, cli_env: None
) -> None:
    assert (
        await happy(["limit", "set", "points_per_receipt", "--severity", "hard", "--value", "10"])
        == 0
    )
    before = await balance(api, member)
    answer = await submit(spar, receipt("BIG-1", member.card))  # 11 points
    assert answer["__typename"] == "LimitExceededError", answer
    assert answer["code"] == "LIMIT_EXCEEDED"
    assert (answer["limitKind"], answer["limit"], answer["attempted"]) == (
        "POINTS_PER_RECEIPT",
        10,
        11,
    )
    assert "pikë për faturë" in answer["message"]  # the till's language (sq by default)
    # Nothing written: no receipt, no ledger entry, the balance unchanged, no count used.
    assert await count(db, select(func.count()).select_from(Receipt)) == 0
    earned = select(func.count()).select_from(PointsEntry).where(PointsEntry.kind == EntryKind.EARN)
    assert await count(db, earned) == 0
    assert await balance(api, member) == before
    assert await count(db, select(func.coalesce(func.sum(FraudCounter.value), 0))) == 0
    # ... but the alert, written after the rollback.
    [alert] = await alerts(db)
    assert (alert.kind, alert.severity, alert.limit_value, alert.observed) == (
        "points_per_receipt",
        "hard",
        10,
        11,
    )
    assert (alert.breaches, alert.refused, alert.cashier_id) == (1, 1, "C-07")
    assert (
        alert.subject == f"member:{member.id}"
        and alert.reference == f"receipt:{alert.partner_id}:BIG-1"
    )
    # Sent again: refused again, counted on the same open alert (no flood).
    again = await submit(spar, receipt("BIG-1", member.card))
    assert again["__typename"] == "LimitExceededError"
    [alert] = await alerts(db)
    assert (alert.breaches, alert.refused) == (2, 2)
    # Raised: the same receipt now goes through.
    assert (
        await happy(["limit", "set", "points_per_receipt", "--severity", "hard", "--value", "11"])
        == 0
    )
    accepted = await submit(spar, receipt("BIG-1", member.card))
    assert accepted["__typename"] == "ReceiptAccepted" and accepted["warnings"] == []
    assert accepted["balance"] == before + 11


async def test_the_daily_hard_limit_counts_what_passed_and_refusals_use_no_headroom(
    spar: Pos, neptun: Pos, member: Member, api: Api, db: Database, cli_env: None
) -> None:
    assert (
        await happy(
            ["limit", "set", "points_per_member_day", "--severity", "hard", "--value", "25"]
        )
        == 0
    )
    results = [await submit(spar, receipt(f"D-{i}", member.card)) for i in range(4)]
    assert [r["__typename"] for r in results] == [
        "ReceiptAccepted",
        "ReceiptAccepted",
        "LimitExceededError",
        "LimitExceededError",
    ]
    assert results[2]["attempted"] == 33 and results[3]["attempted"] == 33
    # The member's day is counted across partners: Neptun's receipt (EUR) meets it too.
    # Exactly at the limit is within it (25 of at most 25).
    eur_line = [{"sku": "X", "name": "Big", "quantity": "1", "unitPrice": 300, "amount": 300}]
    small = await submit(neptun, receipt("N-1", member.card, lines=eur_line, currency="EUR"))
    assert small["__typename"] == "ReceiptAccepted" and small["pointsEarned"] == 3, small
    assert (
        await count(
            db, select(FraudCounter.value).where(FraudCounter.kind == "points_per_member_day")
        )
        == 22 + small["pointsEarned"]
    )
    assert await happy(["ledger", "check"]) == 0


async def test_a_batch_line_over_a_hard_limit_is_reported_and_the_others_are_kept(
    spar: Pos, member: Member, db: Database, cli_env: None
) -> None:
    assert (
        await happy(["limit", "set", "points_per_receipt", "--severity", "hard", "--value", "10"])
        == 0
    )
    small = [{"sku": "B", "name": "Bukë", "quantity": "1", "unitPrice": 23000, "amount": 23000}]
    lines = "\n".join(
        json.dumps(body)
        for body in (
            receipt("B-1", member.card, lines=small),
            receipt("B-2", member.card),  # 11 points: over
            receipt("B-3", member.card, lines=small),
        )
    )
    report = await spar.call(IMPORT, "importReceipts", {"lines": lines})
    assert (report["accepted"], report["rejected"]) == (2, 1)
    assert [(line["status"], line["reason"]) for line in report["lines"]] == [
        ("accepted", None),
        ("rejected", "LIMIT_EXCEEDED"),
        ("accepted", None),
    ]
    [alert] = await alerts(db)
    assert alert.reference.endswith(":B-2") and alert.refused == 1
    assert await count(db, select(func.count()).select_from(Receipt)) == 2


# --- soft limits ---------------------------------------------------------------------------


async def test_a_soft_limit_warns_alerts_once_and_a_replay_counts_nothing_more(
    spar: Pos, member: Member, api: Api, db: Database, cli_env: None
) -> None:
    assert (
        await happy(
            ["limit", "set", "points_per_member_day", "--severity", "soft", "--value", "15"]
        )
        == 0
    )
    first = await submit(spar, receipt("S-1", member.card))
    assert first["__typename"] == "ReceiptAccepted" and first["warnings"] == []
    body = receipt("S-2", member.card)
    second = await submit(spar, body)
    assert second["__typename"] == "ReceiptAccepted" and second["pointsEarned"] == 11
    [warning] = second["warnings"]
    assert (warning["code"], warning["limitKind"], warning["limit"], warning["value"]) == (
        "LIMIT_WARNING",
        "POINTS_PER_MEMBER_DAY",
        15,
        22,
    )
    assert "pikë për anëtar në ditë" in warning["message"]
    # The till retries: the stored first answer, warnings included; nothing counted twice.
    replay = await submit(spar, body)
    assert replay == second
    [alert] = await alerts(db)
    assert (alert.breaches, alert.refused, alert.observed) == (1, 0, 22)
    body = receipt("S-3", member.card)
    third = await submit(spar, body)
    assert third["warnings"][0]["value"] == 33  # not 44: the replay added nothing
    [alert] = await alerts(db)
    assert (alert.breaches, alert.observed, alert.acknowledged_at) == (2, 33, None)
    assert await balance(api, member) == 80 + 33
    # In English when the till asks for it.
    response = await spar.client.post(
        "/partner/graphql",
        json={"query": SUBMIT, "variables": {"input": body}},
        headers={"Authorization": f"Bearer {spar.key}", "Accept-Language": "en"},
    )
    message = response.json()["data"]["submitReceipt"]["warnings"][0]["message"]
    assert "points per member per day (33, limit 15)" in message


async def test_redemptions_per_member_day_hard_refuses_soft_warns(
    spar: Pos, member: Member, api: Api, db: Database, cli_env: None
) -> None:
    await give_points(db, member.id, 4920, clock.now())
    codes = [v["code"] for v in (await claim(api, member, 1))["vouchers"]]
    assert (
        await happy(
            ["limit", "set", "redemptions_per_member_day", "--severity", "soft", "--value", "1"]
        )
        == 0
    )
    assert (
        await happy(
            ["limit", "set", "redemptions_per_member_day", "--severity", "hard", "--value", "2"]
        )
        == 0
    )
    first = await redeem(spar, codes[0], "R-1")
    assert first == {"__typename": "VoucherRedeemed", "receiptId": "R-1", "warnings": []}
    second = await redeem(spar, codes[1], "R-2")
    assert second["__typename"] == "VoucherRedeemed"
    assert [(w["code"], w["limitKind"], w["value"]) for w in second["warnings"]] == [
        ("LIMIT_WARNING", "REDEMPTIONS_PER_MEMBER_DAY", 2)
    ]
    third = await redeem(spar, codes[2], "R-3")
    assert third["__typename"] == "LimitExceededError"
    assert (third["limitKind"], third["limit"], third["attempted"]) == (
        "REDEMPTIONS_PER_MEMBER_DAY",
        2,
        3,
    )
    # The refused voucher is still usable; a retry of a done redemption is not counted.
    valid = await spar.call(VALIDATE, "validateVoucher", {"code": codes[2]})
    assert valid["__typename"] == "VoucherValid"
    assert (await redeem(spar, codes[0], "R-1"))["__typename"] == "VoucherRedeemed"
    kinds = sorted((a.severity, a.breaches, a.refused) for a in await alerts(db))
    # A refusal alerts on the hard limit only: soft alerts are about what went through.
    assert kinds == [("hard", 1, 1), ("soft", 1, 0)]


# --- the cost --------------------------------------------------------------------------------


async def test_no_limit_costs_no_statement_and_limits_cost_one(
    spar: Pos, member: Member, db: Database, cli_env: None
) -> None:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    async def statements_for(receipt_id: str) -> list[str]:
        statements.clear()
        event.listen(db.engine.sync_engine, "before_cursor_execute", record)
        try:
            answer = await submit(spar, receipt(receipt_id, member.card))
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", record)
        assert answer["__typename"] == "ReceiptAccepted", answer
        return [s for s in statements if "fraud_" in s]

    await submit(spar, receipt("WARM-UP", member.card))
    with_limits = await statements_for("R-1")
    assert len(with_limits) == 1 and "fraud_counters" in with_limits[0]  # one upsert
    async with db.unit_of_work() as session:  # never configured
        programme_cache.changed(session)  # a write of programme data empties the cache
        await session.execute(text("DELETE FROM fraud_limits"))
        await session.execute(text("UPDATE programmes SET limits_version = ''"))
    programme_cache.forget_all()  # changed by hand, past the programme service
    assert await statements_for("R-2") == []
    for kind, severity in (("points_per_receipt", "soft"), ("points_per_receipt", "hard")):
        assert await happy(["limit", "set", kind, "--severity", severity, "--value", "5000"]) == 0
        assert await happy(["limit", "set", kind, "--severity", severity, "--off"]) == 0
    # Limits changed (another version): loaded once, then none left to evaluate.
    assert len(await statements_for("R-3")) == 1
    assert await statements_for("R-4") == []


def test_answers_stored_before_warnings_existed_read_back_without_any() -> None:
    stored = {
        "receiptId": "OLD",
        "pointsEarned": 3,
        "balance": 83,
        "breakdown": [],
        "processedAt": "2026-01-02T03:04:05+00:00",
    }
    answer = ReceiptAnswer.from_json(stored)
    assert answer.warnings == () and answer.to_json() == stored
    warned = ReceiptAnswer.from_json(
        {**stored, "warnings": [LimitWarning("points_per_receipt", 2, 3).to_json()]}
    )
    assert warned.warnings == (LimitWarning("points_per_receipt", 2, 3),)


# --- the operator's CLI ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["limit", "set", "points_per_week", "--severity", "hard", "--value", "5"],
            "invalid choice",
        ),
        (
            ["limit", "set", "points_per_receipt", "--severity", "mild", "--value", "5"],
            "invalid choice",
        ),
        (
            ["limit", "set", "points_per_receipt", "--severity", "hard", "--value", "0"],
            "must be 1 or more",
        ),
        (
            ["limit", "set", "points_per_receipt", "--severity", "hard"],
            "give either --value N or --off",
        ),
        (
            ["limit", "set", "points_per_receipt", "--severity", "hard", "--value", "5", "--off"],
            "give either",
        ),
        (
            [
                "limit",
                "set",
                "points_per_receipt",
                "--severity",
                "hard",
                "--value",
                "5",
                "--partner",
                "SPAR",
                "--store",
                "SPAR-TIR-01",
            ],
            "not allowed with argument",
        ),
        (["fraud", "alerts", "--since", "yesterday"], "is not a date"),
        (["fraud", "ack", "abc"], "is not a whole number"),
    ],
)
async def test_cli_usage_mistakes_exit_2_and_change_nothing(
    coalition: None,
    db: Database,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    said: str,
) -> None:
    assert await happy(["limit", "list"]) == 0
    before = capsys.readouterr().out
    assert await happy(argv) == 2
    assert said in capsys.readouterr().err
    assert await happy(["limit", "list"]) == 0
    assert capsys.readouterr().out == before


async def test_cli_limits_alerts_and_acknowledgement(
    spar: Pos,
    neptun: Pos,
    member: Member,
    db: Database,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert (
        await happy(
            [
                "limit",
                "set",
                "points_per_receipt",
                "--severity",
                "soft",
                "--value",
                "5",
                "--store",
                "SPAR-TIR-01",
            ]
        )
        == 0
    )
    assert "soft points_per_receipt at most 5 (store SPAR-TIR-01)" in capsys.readouterr().out
    assert (
        await happy(
            [
                "limit",
                "set",
                "points_per_cashier_day",
                "--severity",
                "soft",
                "--value",
                "1",
                "--partner",
                "NEPTUN",
            ]
        )
        == 0
    )
    assert (
        await happy(
            [
                "limit",
                "set",
                "points_per_receipt",
                "--severity",
                "soft",
                "--value",
                "5",
                "--store",
                "NOPE",
            ]
        )
        == 1
    )
    assert "no store NOPE" in capsys.readouterr().err
    assert (
        await happy(
            [
                "limit",
                "set",
                "points_per_receipt",
                "--severity",
                "hard",
                "--off",
                "--partner",
                "SPAR",
            ]
        )
        == 1
    )
    assert "no hard limit on points_per_receipt there" in capsys.readouterr().err
    assert await happy(["limit", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split("\t") == ["id", "kind", "severity", "at_most", "scope"]
    assert any(row.endswith("\tsoft\t5\tstore SPAR-TIR-01") for row in listing)
    assert any(row.endswith("\tsoft\t1\tpartner NEPTUN") for row in listing)
    assert any(row.endswith("\thard\t10000\tprogramme") for row in listing)  # the demo's

    # The store-scoped limit warns at Spar Kombinat only; the partner one at Neptun only.
    spar_answer = await submit(spar, receipt("C-1", member.card))
    assert [w["limitKind"] for w in spar_answer["warnings"]] == ["POINTS_PER_RECEIPT"]
    eur_line = [{"sku": "X", "name": "Tee", "quantity": "1", "unitPrice": 400, "amount": 400}]
    neptun_answer = await submit(
        neptun, receipt("N-1", member.card, lines=eur_line, currency="EUR", cashierId="N-9")
    )
    assert [w["limitKind"] for w in neptun_answer["warnings"]] == ["POINTS_PER_CASHIER_DAY"]

    capsys.readouterr()
    assert await happy(["fraud", "alerts"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 3 and rows[0].startswith("id\tstatus\tseverity\tkind")
    assert await happy(["fraud", "alerts", "--store", "SPAR-TIR-01"]) == 0
    [_, row] = capsys.readouterr().out.splitlines()
    spar_alert = row.split("\t")
    assert spar_alert[1:5] == ["open", "soft", "points_per_receipt", f"member:{member.id}"]
    assert spar_alert[9:11] == ["SPAR-TIR-01", "C-07"]
    assert await happy(["fraud", "alerts", "--cashier", "N-9"]) == 0
    [_, row] = capsys.readouterr().out.splitlines()
    assert "points_per_cashier_day" in row and "\tcashier:" in row
    assert await happy(["fraud", "alerts", "--store", "NOPE"]) == 1
    assert "no store NOPE" in capsys.readouterr().err
    assert await happy(["fraud", "alerts", "--since", "2999-01-01"]) == 0
    assert capsys.readouterr().out == "no fraud alerts\n"

    monkeypatch.setenv("HAPPY_OPERATOR", "Arta (support)")
    assert await happy(["fraud", "ack", spar_alert[0]]) == 0
    assert capsys.readouterr().out == f"alert {spar_alert[0]} acknowledged by Arta (support)\n"
    assert await happy(["fraud", "ack", spar_alert[0]]) == 0
    assert "already acknowledged by Arta (support)" in capsys.readouterr().out
    assert await happy(["fraud", "ack", "999"]) == 1
    assert "no fraud alert 999" in capsys.readouterr().err
    assert await happy(["fraud", "alerts", "--open"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    # A breach after the acknowledgement opens a new alert for the same day.
    await submit(spar, receipt("C-2", member.card))
    assert await happy(["fraud", "alerts", "--store", "SPAR-TIR-01", "--open"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
