"""Scoped fraud limits (review of issue 14, fix14): a partner's or a store's limit counts only
activity inside its scope, apart from a programme-wide limit of the same kind, and says whose
limit it is; a receipt without a cashier id cannot dodge a per-cashier limit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.db import Database
from app.fraud.models import FraudAlert, FraudCounter
from app.partners.models import Store
from tests.fraud.test_fraud_limits import submit
from tests.pos.conftest import Member, Pos, happy, receipt

EUR_30 = [{"sku": "X", "name": "Big", "quantity": "1", "unitPrice": 3000, "amount": 3000}]


async def _counters(db: Database, kind: str) -> dict[str, int]:
    async with db.read_session() as session:
        rows = await session.execute(
            select(FraudCounter.subject, FraudCounter.value).where(FraudCounter.kind == kind)
        )
        return {subject: int(value) for subject, value in rows}


async def _store_id(db: Database, code: str) -> int:
    async with db.read_session() as session:
        return int((await session.execute(select(Store.id).where(Store.code == code))).scalar_one())


async def test_a_store_limit_counts_only_the_stores_receipts_beside_a_programme_limit(
    spar: Pos, neptun: Pos, member: Member, db: Database, cli_env: None
) -> None:
    limit = ["limit", "set", "points_per_member_day"]
    assert await happy([*limit, "--severity", "soft", "--value", "1000"]) == 0  # programme
    assert (
        await happy([*limit, "--severity", "hard", "--value", "25", "--store", "SPAR-TIR-01"]) == 0
    )
    # 30 points at Neptun: the programme's counter sees them, Spar's store limit does not.
    away = await submit(neptun, receipt("N-1", member.card, lines=EUR_30, currency="EUR"))
    assert away["__typename"] == "ReceiptAccepted" and away["pointsEarned"] == 30, away
    answers = [await submit(spar, receipt(f"S-{i}", member.card)) for i in range(3)]
    assert [a["__typename"] for a in answers] == [
        "ReceiptAccepted",
        "ReceiptAccepted",
        "LimitExceededError",
    ], answers
    refused = answers[2]
    assert (refused["limitKind"], refused["limit"], refused["attempted"]) == (
        "POINTS_PER_MEMBER_DAY",
        25,
        33,  # Spar's 11 + 11 + 11, not Neptun's 30 on top
    )
    assert "kufirin e këtij dyqani" in refused["message"]  # "this store's limit"
    assert "programit" not in refused["message"]
    store = await _store_id(db, "SPAR-TIR-01")
    counters = await _counters(db, "points_per_member_day")
    assert counters == {
        f"member:{member.id}": 30 + 22,  # the programme's: everything that passed
        f"store:{store}/member:{member.id}": 22,  # the store's: its own receipts only
    }
    async with db.read_session() as session:
        [alert] = (await session.execute(select(FraudAlert))).scalars().all()
    # The alert names the member; its limit says whose limit it was.
    assert alert.subject == f"member:{member.id}" and alert.refused == 1


async def test_a_partner_soft_limit_warns_naming_the_partner_in_english(
    spar: Pos, neptun: Pos, member: Member, db: Database, cli_env: None
) -> None:
    limit = ["limit", "set", "points_per_member_day", "--severity", "soft"]
    assert await happy([*limit, "--value", "1000"]) == 0
    assert await happy([*limit, "--value", "15", "--partner", "SPAR"]) == 0
    away = await submit(neptun, receipt("N-1", member.card, lines=EUR_30, currency="EUR"))
    assert away["warnings"] == []  # Spar's limit does not apply at Neptun at all
    first = await submit(spar, receipt("S-1", member.card))
    assert first["warnings"] == []  # 11 at Spar, not 41
    body = receipt("S-2", member.card)
    response = await spar.client.post(
        "/partner/graphql",
        json={
            "query": "mutation($input: ReceiptInput!) { submitReceipt(input: $input) { "
            "... on ReceiptAccepted { warnings { message limit value } } } }",
            "variables": {"input": body},
        },
        headers={"Authorization": f"Bearer {spar.key}", "Accept-Language": "en"},
    )
    [warning] = response.json()["data"]["submitReceipt"]["warnings"]
    assert (warning["limit"], warning["value"]) == (15, 22)
    assert "over this partner's limit on points per member per day" in warning["message"]


async def test_a_receipt_without_a_cashier_counts_against_the_stores_no_cashier_subject(
    spar: Pos, member: Member, db: Database, cli_env: None
) -> None:
    cashier = ["limit", "set", "points_per_cashier_day", "--severity", "hard", "--value", "15"]
    assert await happy(cashier) == 0

    def anonymous(receipt_id: str) -> dict[str, Any]:
        body = receipt(receipt_id, member.card)
        del body["cashierId"]
        return body

    first = await submit(spar, anonymous("A-1"))
    assert first["__typename"] == "ReceiptAccepted", first
    second = await submit(spar, anonymous("A-2"))
    assert second["__typename"] == "LimitExceededError", second
    assert (second["limitKind"], second["attempted"]) == ("POINTS_PER_CASHIER_DAY", 22)
    # A named cashier has a count of its own.
    named = await submit(spar, receipt("C-1", member.card))
    assert named["__typename"] == "ReceiptAccepted", named
    store = await _store_id(db, "SPAR-TIR-01")
    counters = await _counters(db, "points_per_cashier_day")
    assert counters[f"nocashier:store:{store}"] == 11
    assert sum(counters.values()) == 22
