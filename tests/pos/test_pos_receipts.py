"""Receipts through the partner door, as a till sends them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from app import clock
from app.db import Database
from app.ledger.models import EntryKind, PointsEntry
from app.receipts.models import Receipt
from app.settings import Settings
from tests.helpers import Api
from tests.pos.conftest import IMPORT, Member, Pos, receipt
from wallet_passes.dynamic_qr import issue_card_token

RECEIPT_QUERY = """
query($id: String!) { receipt(receiptId: $id) { receiptId pointsEarned total { amount currency } } }
"""


async def _receipt_count(db: Database) -> int:
    async with db.read_session() as session:
        return int((await session.execute(select(func.count(Receipt.id)))).scalar_one())


async def test_receipt_earns_points_with_breakdown(spar: Pos, member: Member, api: Api) -> None:
    # 1 point per 100.00 ALL; own brand Spar x2; tobacco excluded.
    # milk 450.00 ALL -> 4.5 base + 4.5 bonus; bread 230.00 -> 2.3; cigarettes -> 0.
    # 11.3 exact -> 11 points; base 6.8 and bonus 4.5 share them by largest remainder.
    answer = await spar.submit(receipt("R-1", member.card))
    assert answer["__typename"] == "ReceiptAccepted", answer
    assert answer["pointsEarned"] == 11
    assert answer["balance"] == 80 + 11
    assert answer["breakdown"] == [
        {"kind": "BASE", "rule": None, "multiplierPercent": 100, "amount": 68000, "points": 7},
        {
            "kind": "BRAND",
            "rule": "brand:spar",
            "multiplierPercent": 200,
            "amount": 45000,
            "points": 4,
        },
        {
            "kind": "EXCLUDED",
            "rule": "category:tobacco",
            "multiplierPercent": 0,
            "amount": 50000,
            "points": 0,
        },
    ]
    me = await api.me(member.token)
    assert me["balance"]["available"] == 91
    assert me["activity"]["edges"][0]["node"] == {"kind": "EARN", "points": 11, "balanceAfter": 91}


async def test_points_expire_twelve_months_after_the_receipt(
    spar: Pos, member: Member, db: Database
) -> None:
    issued = clock.now() - timedelta(days=3)
    await spar.submit(receipt("R-EXP", member.card, issued_at=issued.isoformat()))
    async with db.read_session() as session:
        entry = (
            await session.execute(select(PointsEntry).where(PointsEntry.kind == EntryKind.EARN))
        ).scalar_one()
    assert entry.expires_at is not None
    from dateutil.relativedelta import relativedelta

    assert entry.expires_at == issued + relativedelta(months=12)


async def test_retry_returns_first_answer_and_other_body_conflicts(
    spar: Pos, member: Member, api: Api, db: Database
) -> None:
    body = receipt("R-2", member.card)
    first = await spar.submit(body)
    again = await spar.submit(body)
    assert again == first
    assert (await api.me(member.token))["balance"]["available"] == 91

    changed = dict(body, total=body["total"] - 23000, lines=body["lines"][:2])
    conflict = await spar.submit(changed)
    assert conflict["__typename"] == "ConflictError"
    assert conflict["code"] == "RECEIPT_CONFLICT" and conflict["field"] == "receiptId"
    assert (await api.me(member.token))["balance"]["available"] == 91
    assert await _receipt_count(db) == 1


async def test_member_identified_by_rotating_token_or_phone(
    spar: Pos, member: Member, settings: Settings, frozen_now: Any
) -> None:
    from app.runtime import build_runtime

    secret = build_runtime(settings).keys.card_token_secret
    token = issue_card_token(secret, member.card, clock.now(), ttl=60)
    ok = await spar.submit(receipt("R-T1", token))
    assert ok["__typename"] == "ReceiptAccepted", ok

    frozen_now[0] += timedelta(seconds=61)
    replayed = await spar.submit(receipt("R-T2", token))
    assert replayed["__typename"] == "MemberNotIdentifiedError"
    assert replayed["code"] == "CARD_TOKEN_EXPIRED"

    by_phone = await spar.submit(receipt("R-P1", None, phone="069 123 4567"))
    assert by_phone["__typename"] == "ReceiptAccepted" and by_phone["balance"] == 80 + 22


async def test_unknown_card_or_phone_is_typed_and_writes_nothing(
    spar: Pos, member: Member, db: Database
) -> None:
    wrong = member.card[:-1] + str((int(member.card[-1]) + 1) % 10)
    for body, code in (
        (receipt("R-U1", wrong), "CARD_NOT_FOUND"),
        (receipt("R-U2", "not-a-card"), "CARD_NOT_FOUND"),
        (receipt("R-U3", None, phone="+355 69 999 9999"), "MEMBER_NOT_FOUND"),
    ):
        result = await spar.submit(body)
        assert result["__typename"] == "MemberNotIdentifiedError", result
        assert result["code"] == code
    assert await _receipt_count(db) == 0


async def test_a_key_cannot_probe_phone_numbers(
    spar: Pos, member: Member, db: Database, frozen_now: Any
) -> None:
    from app.limits.service import PHONE_PROBES

    frozen_now[0] = frozen_now[0].replace(minute=0, second=0)  # one whole window ahead
    for n in range(PHONE_PROBES.attempts):
        miss = await spar.submit(receipt(f"R-X{n}", None, phone=f"+355 69 800 {n:04d}"))
        assert miss["code"] == "MEMBER_NOT_FOUND", miss
    # The key used up its unknown numbers: phone lookups stop answering, even for members ...
    blocked = await spar.submit(receipt("R-X-MEMBER", None, phone="069 123 4567"))
    assert blocked["__typename"] == "RateLimitedError" and blocked["field"] == "phone"
    # ... while scanned cards go on working at the till.
    by_card = await spar.submit(receipt("R-X-CARD", member.card))
    assert by_card["__typename"] == "ReceiptAccepted"
    frozen_now[0] += timedelta(seconds=PHONE_PROBES.window_seconds)
    again = await spar.submit(receipt("R-X-LATER", None, phone="069 123 4567"))
    assert again["__typename"] == "ReceiptAccepted"
    assert await _receipt_count(db) == 2


async def test_inconsistent_receipts_are_rejected(spar: Pos, member: Member, db: Database) -> None:
    base = receipt("R-BAD", member.card)
    cases: list[tuple[dict[str, Any], str, str]] = [
        (dict(base, currency="EUR"), "WRONG_CURRENCY", "currency"),
        (dict(base, total=base["total"] + 1), "TOTAL_MISMATCH", "total"),
        (
            dict(
                base, total=0, lines=[dict(base["lines"][0], amount=-5, unitPrice=-5, quantity="1")]
            ),
            "NEGATIVE_AMOUNT",
            "lines.0.unitPrice",
        ),
        (
            dict(base, total=44000, lines=[dict(base["lines"][0], amount=44000)]),
            "LINE_AMOUNT_MISMATCH",
            "lines.0.amount",
        ),
        (dict(base, total=-118000), "NEGATIVE_AMOUNT", "total"),
        (dict(base, lines=[]), "INVALID_INPUT", "lines"),
    ]
    for body, code, field in cases:
        result = await spar.submit(body)
        assert result["__typename"] == "InputError", (code, result)
        assert (result["code"], result["field"]) == (code, field)
    assert await _receipt_count(db) == 0
    assert (await spar.gql(RECEIPT_QUERY, {"id": "R-BAD"}))["data"]["receipt"] is None


async def test_weighed_goods_within_one_minor_unit(spar: Pos, member: Member) -> None:
    # 0.735 kg at 189.90 ALL/kg = 139.5765 ALL -> 13958 (rounded), the till printed 13957.
    line = {
        "sku": "APPLES",
        "name": "Mollë",
        "category": "fruit",
        "quantity": "0.735",
        "unitPrice": 18990,
        "amount": 13957,
    }
    ok = await spar.submit(receipt("R-W1", member.card, lines=[line]))
    assert ok["__typename"] == "ReceiptAccepted", ok
    off = await spar.submit(receipt("R-W2", member.card, lines=[dict(line, amount=13955)]))
    assert off["code"] == "LINE_AMOUNT_MISMATCH"


async def test_keys_missing_wrong_or_revoked_are_unauthenticated(
    spar: Pos, member: Member, db: Database, client: Any
) -> None:
    from auth import api_keys

    for key in (None, "nonsense", spar.key[:-2] + "xx"):  # type: ignore[index]
        body = await Pos(client, key).gql(RECEIPT_QUERY, {"id": "R-1"})
        assert (body["data"] or {}).get("receipt") is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert spar.key is not None
    async with db.unit_of_work() as session:
        assert await api_keys.revoke_key(session, prefix=spar.key, now=clock.now())
    body = await spar.gql(
        "mutation($i: ReceiptInput!) { submitReceipt(input: $i) { __typename } }",
        {"i": receipt("R-REV", member.card)},
    )
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await _receipt_count(db) == 0


async def test_partner_sees_only_its_own_receipts(
    spar: Pos, neptun: Pos, member: Member, api: Api
) -> None:
    await spar.submit(receipt("R-OWN", member.card))
    assert (await neptun.gql(RECEIPT_QUERY, {"id": "R-OWN"}))["data"]["receipt"] is None
    refund = await neptun.refund(receiptId="R-OWN", refundId="X-1")
    assert refund["__typename"] == "NotFoundError" and refund["code"] == "NOT_FOUND"
    mine = (await spar.gql(RECEIPT_QUERY, {"id": "R-OWN"}))["data"]["receipt"]
    assert mine == {
        "receiptId": "R-OWN",
        "pointsEarned": 11,
        "total": {"amount": 118000, "currency": "ALL"},
    }
    # The same receipt id at another partner is another receipt.
    other = await neptun.submit(
        receipt(
            "R-OWN",
            member.card,
            currency="EUR",
            lines=[
                {
                    "sku": "TV",
                    "name": "TV",
                    "category": "tv",
                    "quantity": "1",
                    "unitPrice": 49900,
                    "amount": 49900,
                }
            ],
        )
    )
    assert other["__typename"] == "ReceiptAccepted" and other["pointsEarned"] == 499
    assert (await api.me(member.token))["balance"]["available"] == 80 + 11 + 499


async def test_refunds_reverse_in_proportion_never_more(
    spar: Pos, member: Member, api: Api
) -> None:
    await spar.submit(receipt("R-RF", member.card))  # 11 points, balance 91
    # Return two of the three bottles of milk (300.00 ALL of 450.00): the receipt is
    # worth 1.5 x 2 + 2.3 = 5.3 -> 5 points after it, so 6 go back.
    part = await spar.refund(
        receiptId="R-RF", refundId="RF-1", lines=[{"lineNumber": 1, "amount": 30000}]
    )
    assert part == {
        "__typename": "ReceiptRefunded",
        "receiptId": "R-RF",
        "refundId": "RF-1",
        "refundedAmount": 30000,
        "pointsReversed": 6,
        "pointsUncollected": 0,
        "balance": 85,
    }
    # A retry of the same return: the same answer, nothing more reversed.
    assert (
        await spar.refund(
            receiptId="R-RF", refundId="RF-1", lines=[{"lineNumber": 1, "amount": 30000}]
        )
        == part
    )
    other = await spar.refund(receiptId="R-RF", refundId="RF-1")
    assert other["code"] == "RECEIPT_CONFLICT"
    too_much = await spar.refund(
        receiptId="R-RF", refundId="RF-2", lines=[{"lineNumber": 1, "amount": 15001}]
    )
    assert too_much["code"] == "REFUND_EXCEEDS_RECEIPT"
    rest = await spar.refund(receiptId="R-RF", refundId="RF-3")
    assert rest["pointsReversed"] == 5 and rest["balance"] == 80
    nothing_left = await spar.refund(receiptId="R-RF", refundId="RF-4")
    assert nothing_left["code"] == "REFUND_EXCEEDS_RECEIPT"
    me = await api.me(member.token)
    assert [e["node"]["points"] for e in me["activity"]["edges"]] == [-5, -6, 11, 80]
    assert me["balance"]["lifetime"] == 80  # a returned purchase earned nothing


async def test_refund_after_points_were_spent_records_the_rest(
    spar: Pos, member: Member, api: Api, db: Database
) -> None:
    await spar.submit(receipt("R-SP", member.card))  # balance 91
    from app.ledger import service as ledger

    async with db.unit_of_work() as session:
        await ledger.post(
            session, member_id=member.id, kind=EntryKind.ADJUSTMENT, delta=-85, now=clock.now()
        )
    refund = await spar.refund(receiptId="R-SP", refundId="RF-SP")
    assert refund["pointsReversed"] == 6 and refund["pointsUncollected"] == 5
    assert refund["balance"] == 0
    balance = (await api.me(member.token))["balance"]
    assert balance["available"] == 0 and balance["lifetime"] == 80


async def test_offline_batch_reports_each_line(spar: Pos, member: Member, api: Api) -> None:
    import json

    live = receipt("B-1", member.card)
    await spar.submit(live)
    lines = [
        json.dumps(live),  # sent live already: duplicate
        json.dumps(receipt("B-2", member.card)),
        "{not json",
        json.dumps(dict(receipt("B-3", member.card), currency="EUR")),
        "",
        json.dumps(
            dict(
                receipt("B-1", member.card),
                total=1,
                lines=[receipt("x", None)["lines"][2] | {"unitPrice": 1, "amount": 1}],
            )
        ),
    ]
    report = await spar.call(IMPORT, "importReceipts", {"lines": "\n".join(lines)})
    assert report["__typename"] == "BatchReport"
    assert (report["accepted"], report["duplicates"], report["rejected"]) == (1, 1, 3)
    assert report["lines"] == [
        {"line": 1, "receiptId": "B-1", "status": "duplicate", "reason": None, "pointsEarned": 11},
        {"line": 2, "receiptId": "B-2", "status": "accepted", "reason": None, "pointsEarned": 11},
        {
            "line": 3,
            "receiptId": None,
            "status": "rejected",
            "reason": "INVALID_JSON",
            "pointsEarned": None,
        },
        {
            "line": 4,
            "receiptId": "B-3",
            "status": "rejected",
            "reason": "WRONG_CURRENCY",
            "pointsEarned": None,
        },
        {
            "line": 6,
            "receiptId": "B-1",
            "status": "rejected",
            "reason": "RECEIPT_CONFLICT",
            "pointsEarned": None,
        },
    ]
    assert (await api.me(member.token))["balance"]["available"] == 80 + 22
    again = await spar.call(IMPORT, "importReceipts", {"lines": lines[1]})
    assert again["lines"][0]["status"] == "duplicate"
    assert (await api.me(member.token))["balance"]["available"] == 80 + 22


async def test_batch_size_is_bounded(spar: Pos, member: Member) -> None:
    from app.receipts.service import MAX_BATCH_LINES

    lines = "\n".join("{}" for _ in range(MAX_BATCH_LINES + 1))
    result = await spar.call(IMPORT, "importReceipts", {"lines": lines})
    assert result["__typename"] == "InputError" and result["code"] == "BATCH_TOO_LARGE"


async def _lots(db: Database, member_id: int) -> dict[int, tuple[int, int]]:
    """entry id -> (remaining, points) of the member's lots."""
    from app.ledger.models import PointsLot

    async with db.read_session() as session:
        rows = (
            await session.execute(
                select(PointsLot.entry_id, PointsLot.remaining, PointsLot.points).where(
                    PointsLot.member_id == member_id
                )
            )
        ).all()
    return {entry_id: (remaining, points) for entry_id, remaining, points in rows}


async def _earn_entry_id(db: Database, reference_id_of: str) -> int:
    async with db.read_session() as session:
        receipt_pk = (
            await session.execute(select(Receipt.id).where(Receipt.external_id == reference_id_of))
        ).scalar_one()
        return (
            await session.execute(
                select(PointsEntry.id).where(
                    PointsEntry.kind == EntryKind.EARN, PointsEntry.reference_id == str(receipt_pk)
                )
            )
        ).scalar_one()


async def test_refund_takes_back_the_receipts_own_lot_not_expiring_points(
    spar: Pos, member: Member, db: Database
) -> None:
    from app.ledger import service as ledger

    now = clock.now()
    async with db.unit_of_work() as session:
        soon = await ledger.post(
            session,
            member_id=member.id,
            kind=EntryKind.ADJUSTMENT,
            delta=100,
            now=now - timedelta(days=360),
            expires_at=now + timedelta(days=5),
        )
    soon_id = soon.id
    assert (await spar.submit(receipt("R-1", member.card)))["pointsEarned"] == 11
    refund = await spar.refund(receiptId="R-1", refundId="RF-1")
    assert refund["pointsReversed"] == 11 and refund["balance"] == 180
    lots = await _lots(db, member.id)
    assert lots[soon_id] == (100, 100)  # the expiring points were not renewed
    assert lots[await _earn_entry_id(db, "R-1")] == (0, 11)


async def test_refund_counts_the_receipts_expired_points_as_taken_back(
    spar: Pos, member: Member, db: Database
) -> None:
    from app.ledger.expiry import expire_member_points

    issued = clock.now() - timedelta(days=400)
    await spar.submit(receipt("R-OLD", member.card, issued_at=issued.isoformat()))
    async with db.unit_of_work() as session:
        assert await expire_member_points(session, member.id, clock.now()) == 11
    part = await spar.refund(
        receiptId="R-OLD", refundId="RF-1", lines=[{"lineNumber": 1, "amount": 30000}]
    )
    assert part["pointsReversed"] == 0 and part["pointsUncollected"] == 6
    rest = await spar.refund(receiptId="R-OLD", refundId="RF-2")
    assert rest["pointsReversed"] == 0 and rest["pointsUncollected"] == 5
    assert rest["balance"] == 80  # the welcome bonus is untouched


async def test_a_receipt_from_year_one_is_one_rejected_line_of_a_batch(
    spar: Pos, member: Member, api: Api
) -> None:
    import json

    lines = [
        json.dumps(receipt("Y-1", member.card)),
        json.dumps(receipt("Y-2", member.card, issued_at="0001-01-01T00:30:00+01:00")),
        json.dumps(receipt("Y-3", member.card, issued_at="1999-12-31T23:59:59+00:00")),
        json.dumps(receipt("Y-4", member.card)),
    ]
    report = await spar.call(IMPORT, "importReceipts", {"lines": "\n".join(lines)})
    assert (report["accepted"], report["rejected"]) == (2, 2), report
    assert [(r["receiptId"], r["reason"]) for r in report["lines"]] == [
        ("Y-1", None),
        ("Y-2", "INVALID_INPUT"),
        ("Y-3", "INVALID_INPUT"),
        ("Y-4", None),
    ]
    assert (await api.me(member.token))["balance"]["available"] == 80 + 22
    live = await spar.submit(receipt("Y-5", member.card, issued_at="0001-01-01T00:30:00+01:00"))
    assert live["code"] == "INVALID_INPUT" and live["field"] == "issuedAt"


async def test_a_refund_naming_one_line_twice_is_invalid_input(spar: Pos, member: Member) -> None:
    await spar.submit(receipt("R-DUP", member.card))
    twice = await spar.refund(
        receiptId="R-DUP",
        refundId="RF-DUP",
        lines=[{"lineNumber": 1}, {"lineNumber": 1, "amount": 5}],
    )
    assert twice["__typename"] == "InputError" and twice["field"] == "lines", twice


async def test_a_batch_accepts_the_app_token_scanned_at_the_till_hours_ago(
    spar: Pos, member: Member, settings: Settings, api: Api
) -> None:
    import json

    from app.runtime import build_runtime

    secret = build_runtime(settings).keys.card_token_secret
    sold = clock.now() - timedelta(hours=5)
    token = issue_card_token(secret, member.card, sold, ttl=60)
    lines = [
        json.dumps(receipt("Q-1", token, issued_at=(sold + timedelta(seconds=20)).isoformat())),
        json.dumps(receipt("Q-2", token, issued_at=(sold + timedelta(seconds=61)).isoformat())),
        json.dumps(receipt("Q-3", token, issued_at=(sold - timedelta(minutes=5)).isoformat())),
    ]
    report = await spar.call(IMPORT, "importReceipts", {"lines": "\n".join(lines)})
    assert [(r["receiptId"], r["status"], r["reason"]) for r in report["lines"]] == [
        ("Q-1", "accepted", None),
        ("Q-2", "rejected", "CARD_TOKEN_EXPIRED"),
        ("Q-3", "rejected", "CARD_TOKEN_EXPIRED"),
    ]
    assert (await api.me(member.token))["balance"]["available"] == 80 + 11


async def test_answers_stored_before_the_typed_answers_are_replayed_as_stored(
    spar: Pos, member: Member, db: Database
) -> None:
    from app.receipts.models import ReceiptRefund

    body = receipt("R-OLD", member.card)
    first = await spar.submit(body)
    refund = await spar.refund(receiptId="R-OLD", refundId="RF-OLD")
    # Rows written by the earlier code: the same keys, written by hand here, with values
    # this code would not produce itself (so the replay visibly comes from the row).
    legacy_receipt = {
        "receiptId": "R-OLD",
        "pointsEarned": 11,
        "balance": 1234,
        "breakdown": [
            {"kind": "BASE", "rule": None, "multiplierPercent": 100, "amount": 68000, "points": 11}
        ],
        "processedAt": "2024-12-31T23:59:59.500000+00:00",
    }
    legacy_refund = {
        "receiptId": "R-OLD",
        "refundId": "RF-OLD",
        "refundedAmount": 118000,
        "pointsReversed": 10,
        "pointsUncollected": 1,
        "balance": 4321,
    }
    async with db.unit_of_work() as session:
        row = (
            await session.execute(select(Receipt).where(Receipt.external_id == "R-OLD"))
        ).scalar_one()
        row.answer = legacy_receipt
        stored = (
            await session.execute(select(ReceiptRefund).where(ReceiptRefund.receipt_id == row.id))
        ).scalar_one()
        stored.answer = legacy_refund
    again = await spar.submit(body)
    assert again == {"__typename": "ReceiptAccepted", **legacy_receipt}
    assert again["breakdown"] != first["breakdown"]
    assert await spar.refund(receiptId="R-OLD", refundId="RF-OLD") == {
        "__typename": "ReceiptRefunded",
        **legacy_refund,
    }
    assert refund["pointsReversed"] == 11


async def test_a_refund_is_scored_with_the_rate_of_its_receipt(
    spar: Pos, member: Member, db: Database
) -> None:
    from app.partners.earn_rules import set_rate

    await spar.submit(receipt("R-RATE", member.card))  # 11 points at 1 per 100.00 ALL
    async with db.unit_of_work() as session:
        await set_rate(
            session, partner_code="SPAR", currency="ALL", points=10, per_amount=100, now=clock.now()
        )
    # Two of three bottles of milk back: 5.3 -> 5 points left, so 6 go back (at today's
    # rate it would be 530 left and nothing back).
    part = await spar.refund(
        receiptId="R-RATE", refundId="RF-1", lines=[{"lineNumber": 1, "amount": 30000}]
    )
    assert part["pointsReversed"] == 6


async def test_a_batch_cannot_probe_phone_numbers_either(
    spar: Pos, member: Member, frozen_now: Any
) -> None:
    """Misses in an offline batch count against the key like real-time ones (a line's
    savepoint must not take the count back with it)."""
    import json

    from app.limits.service import PHONE_PROBES

    frozen_now[0] = frozen_now[0].replace(minute=0, second=0)
    unknown = [
        json.dumps(receipt(f"B-X{n}", None, phone=f"+355 69 800 {n:04d}"))
        for n in range(PHONE_PROBES.attempts + 5)
    ]
    known = json.dumps(receipt("B-MEMBER", None, phone="069 123 4567"))
    report = await spar.call(IMPORT, "importReceipts", {"lines": "\n".join([*unknown, known])})
    reasons = [line["reason"] for line in report["lines"]]
    assert reasons[: PHONE_PROBES.attempts] == ["MEMBER_NOT_FOUND"] * PHONE_PROBES.attempts
    # Once the key's budget is spent, phone lines are refused: members and non-members alike.
    assert set(reasons[PHONE_PROBES.attempts :]) == {"RATE_LIMITED"}
    blocked = await spar.submit(receipt("R-AFTER", None, phone="069 123 4567"))
    assert blocked["__typename"] == "RateLimitedError"
