"""Reward levels, claims and vouchers through the member and partner doors."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any

from app import clock
from app.db import Database
from app.rewards import codes
from tests.helpers import Api
from tests.pos.conftest import VALIDATE, Member, Pos, claim, give_points

LEVELS = "query { me { balance { available } rewardLevels { level points voucherCount voucherValue { amount currency } totalValue { amount currency } pointsNeeded progressPercent } } }"

VOUCHERS = "query($s: VoucherStatus) { me { vouchers(status: $s) { edges { node { code status value { amount currency } } } } } }"


def test_voucher_codes_are_unguessable_and_checked() -> None:
    assert codes.ENTROPY_BITS >= 60
    assert not set("01OIL") & set(codes.ALPHABET)
    code = codes.new_code()
    assert codes.normalise(code) == code
    assert codes.normalise(codes.display(code).lower()) == code
    for i in range(len(code)):
        for symbol in codes.ALPHABET:
            if symbol != code[i]:
                assert codes.normalise(code[:i] + symbol + code[i + 1 :]) is None
    for i in range(len(code) - 1):
        if code[i] != code[i + 1]:
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            assert codes.normalise(swapped) is None
    assert len({codes.new_code() for _ in range(1000)}) == 1000
    assert math.log2(len(codes.ALPHABET)) * codes.RANDOM_SYMBOLS > 64


async def test_levels_progress_claim_and_vouchers(
    coalition: None, member: Member, api: Api, db: Database
) -> None:
    body = await api.gql(LEVELS, token=member.token)
    levels = body["data"]["me"]["rewardLevels"]
    assert levels == [
        {
            "level": 1,
            "points": 5000,
            "voucherCount": 6,
            "voucherValue": {"amount": 400, "currency": "EUR"},
            "totalValue": {"amount": 2400, "currency": "EUR"},
            "pointsNeeded": 4920,
            "progressPercent": 1,
        },
        {
            "level": 2,
            "points": 10000,
            "voucherCount": 5,
            "voucherValue": {"amount": 960, "currency": "EUR"},
            "totalValue": {"amount": 4800, "currency": "EUR"},
            "pointsNeeded": 9920,
            "progressPercent": 0,
        },
    ]
    short = await claim(api, member, 1)
    assert short == {
        "__typename": "InsufficientPointsError",
        "pointsNeeded": 5000,
        "code": "INSUFFICIENT_POINTS",
        "message": short["message"],
    }
    unknown = await claim(api, member, 9)
    assert unknown["code"] == "REWARD_LEVEL_NOT_FOUND"

    await give_points(db, member.id, 4920 + 10000, clock.now())
    one = await claim(api, member, 1)
    assert one["__typename"] == "RewardClaimed" and one["balance"] == 10000
    assert len(one["vouchers"]) == 6
    assert sum(v["value"]["amount"] for v in one["vouchers"]) == 2400
    # The QR a till scans reads back (zxing-cpp) to the code, which the till may redeem as is.
    from tests.helpers import decode, rasterise_segno_svg

    _, image = rasterise_segno_svg(one["vouchers"][0]["qrSvg"])
    assert [r.text for r in decode(image)] == [one["vouchers"][0]["code"].replace("-", "")]
    for voucher in one["vouchers"]:
        assert re.fullmatch(
            r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{2}",
            voucher["code"],
        )
        assert voucher["status"] == "ACTIVE" and voucher["qrSvg"].startswith("<")
    two = await claim(api, member, 2)
    assert two["balance"] == 0 and sum(v["value"]["amount"] for v in two["vouchers"]) == 4800
    mine = [
        e["node"]
        for e in (await api.gql(VOUCHERS, {"s": "ACTIVE"}, token=member.token))["data"]["me"][
            "vouchers"
        ]["edges"]
    ]
    assert len(mine) == 11
    me = await api.me(member.token)
    assert me["activity"]["edges"][0]["node"]["kind"] == "REWARD_CLAIM"


async def _voucher(api: Api, member: Member, db: Database) -> str:
    await give_points(db, member.id, 4920, clock.now())
    result = await claim(api, member, 1)
    code: str = result["vouchers"][0]["code"]
    return code


async def test_redeem_once_void_within_a_day(
    spar: Pos, neptun: Pos, member: Member, api: Api, db: Database, frozen_now: Any
) -> None:
    code = await _voucher(api, member, db)
    checked = await spar.call(VALIDATE, "validateVoucher", {"code": code.lower().replace("-", " ")})
    assert checked["__typename"] == "VoucherValid" and checked["voucher"]["value"] == {
        "amount": 400,
        "currency": "EUR",
    }

    done = await spar.redeem(code, "S-100")
    assert done["__typename"] == "VoucherRedeemed" and done["voucher"]["status"] == "USED"
    assert await spar.redeem(code, "S-100") == done  # the till retried: same answer
    for till, receipt_id in ((spar, "S-101"), (neptun, "N-1")):
        again = await till.redeem(code, receipt_id)
        assert again["__typename"] == "VoucherError" and again["code"] == "VOUCHER_ALREADY_REDEEMED"
    used = [
        e["node"]
        for e in (await api.gql(VOUCHERS, {"s": "USED"}, token=member.token))["data"]["me"][
            "vouchers"
        ]["edges"]
    ]
    assert [v["code"] for v in used] == [code]

    other = await neptun.void(code, "S-100")
    assert other["code"] == "VOUCHER_NOT_FOUND"
    wrong_receipt = await spar.void(code, "S-101")
    assert wrong_receipt["code"] == "VOUCHER_NOT_FOUND"
    frozen_now[0] += timedelta(hours=23)
    voided = await spar.void(code, "S-100")
    assert (
        voided["__typename"] == "VoucherRedemptionVoided"
        and voided["voucher"]["status"] == "ACTIVE"
    )
    assert (await neptun.redeem(code, "N-2"))["__typename"] == "VoucherRedeemed"
    frozen_now[0] += timedelta(hours=25)
    late = await neptun.void(code, "N-2")
    assert late["code"] == "VOID_WINDOW_PASSED"


async def test_a_retried_void_never_cancels_a_later_redemption(
    spar: Pos, member: Member, api: Api, db: Database, frozen_now: Any
) -> None:
    code = await _voucher(api, member, db)
    assert (await spar.redeem(code, "T-1"))["__typename"] == "VoucherRedeemed"
    first = await spar.void(code, "T-1")
    assert first["__typename"] == "VoucherRedemptionVoided"
    frozen_now[0] += timedelta(minutes=5)
    later = await spar.redeem(code, "T-2")
    assert later["__typename"] == "VoucherRedeemed"
    frozen_now[0] += timedelta(minutes=5)
    retried = await spar.void(code, "T-1")  # the first void, delivered again late
    assert retried["__typename"] == "VoucherRedemptionVoided"
    assert retried["voidedAt"] == first["voidedAt"]
    checked = await spar.call(VALIDATE, "validateVoucher", {"code": code})
    assert checked["code"] == "VOUCHER_ALREADY_REDEEMED"  # T-2 still holds it
    assert (await spar.void(code, ""))["code"] == "INVALID_INPUT"


async def test_expired_and_restricted_vouchers(
    spar: Pos, neptun: Pos, member: Member, api: Api, db: Database, frozen_now: Any
) -> None:
    from app.rewards.service import set_level

    async with db.unit_of_work() as session:
        await set_level(
            session,
            level=3,
            points=1000,
            voucher_count=2,
            voucher_value=500,
            currency="EUR",
            active=True,
            now=clock.now(),
            partner_code="SPAR",
        )
    await give_points(db, member.id, 1000, clock.now())
    claimed = await api.gql(
        "mutation { claimReward(level: 3) { ... on RewardClaimed { vouchers { code validOnlyAt } } } }",
        token=member.token,
    )
    vouchers = claimed["data"]["claimReward"]["vouchers"]
    assert [v["validOnlyAt"] for v in vouchers] == ["Spar", "Spar"], claimed
    code = vouchers[0]["code"]
    here = await neptun.call(VALIDATE, "validateVoucher", {"code": code})
    assert here["code"] == "VOUCHER_NOT_VALID_HERE"
    assert (await spar.call(VALIDATE, "validateVoucher", {"code": code}))[
        "__typename"
    ] == "VoucherValid"
    frozen_now[0] += timedelta(days=90, seconds=1)
    expired = await spar.redeem(code, "S-1")
    assert expired["code"] == "VOUCHER_EXPIRED"
    token = (await api.sign_up(member.phone))["accessToken"]  # 90 days later: sign in again
    listed = [
        e["node"]
        for e in (await api.gql(VOUCHERS, {"s": "EXPIRED"}, token=token))["data"]["me"]["vouchers"][
            "edges"
        ]
    ]
    assert len(listed) == 2
    restricted = await api.gql(
        "query { me { vouchers { edges { node { validOnlyAt } } } } }", token=token
    )
    edges = restricted["data"]["me"]["vouchers"]["edges"]
    assert {e["node"]["validOnlyAt"] for e in edges} == {"Spar"}


async def test_guessing_codes_is_rate_limited_per_key(
    spar: Pos, neptun: Pos, member: Member, api: Api, db: Database, frozen_now: Any
) -> None:
    from app.limits.service import VOUCHER_CODE_GUESSES

    code = await _voucher(api, member, db)
    for _ in range(VOUCHER_CODE_GUESSES.attempts):
        miss = await spar.call(VALIDATE, "validateVoucher", {"code": codes.new_code()})
        assert miss["code"] == "VOUCHER_NOT_FOUND"
    blocked = await spar.call(VALIDATE, "validateVoucher", {"code": code})
    assert blocked["__typename"] == "RateLimitedError" and blocked["retryAfterSeconds"] > 0
    assert (await spar.redeem(code, "S-1"))["__typename"] == "RateLimitedError"
    # Another key (another till) is not affected.
    assert (await neptun.redeem(code, "N-1"))["__typename"] == "VoucherRedeemed"
    # The next window lets the till try again.
    frozen_now[0] += timedelta(minutes=15)
    assert (await spar.call(VALIDATE, "validateVoucher", {"code": code}))["code"] == (
        "VOUCHER_ALREADY_REDEEMED"
    )


async def test_a_retried_claim_returns_the_first(
    coalition: None, member: Member, api: Api, db: Database
) -> None:
    await give_points(db, member.id, 4920 + 5000, clock.now())  # enough for two claims
    first = await claim(api, member, 1, "tap-1")
    again = await claim(api, member, 1, "tap-1")
    assert first["__typename"] == "RewardClaimed" and first["balance"] == 5000
    assert again == first
    other_level = await claim(api, member, 2, "tap-1")
    assert other_level["__typename"] == "ConflictError"
    second = await claim(api, member, 1, "tap-2")
    assert second["balance"] == 0
    assert {v["code"] for v in second["vouchers"]}.isdisjoint(v["code"] for v in first["vouchers"])


async def test_deleting_the_account_forfeits_its_vouchers(
    spar: Pos, member: Member, api: Api, db: Database
) -> None:
    code = await _voucher(api, member, db)
    assert (await spar.call(VALIDATE, "validateVoucher", {"code": code}))[
        "__typename"
    ] == "VoucherValid"
    deleted = await api.gql("mutation { deleteAccount { deletedAt } }", token=member.token)
    assert deleted["data"]["deleteAccount"]["deletedAt"], deleted
    after = await spar.call(VALIDATE, "validateVoucher", {"code": code})
    assert after["code"] == "VOUCHER_EXPIRED"
    assert (await spar.redeem(code, "D-1"))["code"] == "VOUCHER_EXPIRED"


async def test_data_export_holds_receipts_with_lines_and_vouchers(
    spar: Pos, member: Member, api: Api, db: Database
) -> None:
    from tests.pos.conftest import receipt

    await spar.submit(receipt("EX-1", member.card))
    code = await _voucher(api, member, db)
    body = await api.gql("mutation { exportMyData { data } }", token=member.token)
    data = body["data"]["exportMyData"]["data"]
    [exported] = data["receipts"]
    assert exported["receiptId"] == "EX-1" and exported["pointsEarned"] == 11
    assert [line["sku"] for line in exported["lines"]] == ["SP-MILK-1L", "TOB-20", "BREAD-500"]
    assert len(data["vouchers"]) == 6 and code in {v["code"] for v in data["vouchers"]}
    assert {v["status"] for v in data["vouchers"]} == {"active"}


async def test_the_doors_publish_receipt_and_voucher_events(
    spar: Pos, member: Member, api: Api, db: Database
) -> None:
    """What offers, tiers, fraud limits and messages will subscribe to."""
    from app import events
    from tests.pos.conftest import receipt

    seen: list[events.Event] = []

    async def record(session: Any, event: events.Event) -> None:
        seen.append(event)

    for kind in (
        events.ReceiptAccepted,
        events.ReceiptRefunded,
        events.VoucherIssued,
        events.VoucherRedeemed,
        events.BalanceChanged,
    ):
        db.events.in_transaction(kind, record)

    body = receipt("EV-1", member.card)
    accepted = await spar.submit(body)
    assert accepted["__typename"] == "ReceiptAccepted"
    assert await spar.submit(body) == accepted  # a retry: no second event
    refunded = await spar.refund(receiptId="EV-1", refundId="EV-1-R")
    assert refunded["__typename"] == "ReceiptRefunded"
    code = await _voucher(api, member, db)
    assert (await spar.redeem(code, "EV-2"))["__typename"] == "VoucherRedeemed"

    kinds = [type(e).__name__ for e in seen]
    assert kinds.count("ReceiptAccepted") == 1 and kinds.count("ReceiptRefunded") == 1
    assert kinds.count("VoucherIssued") == 1 and kinds.count("VoucherRedeemed") == 1
    earn = next(e for e in seen if isinstance(e, events.ReceiptAccepted))
    assert earn.member_id == member.id and earn.points == accepted["pointsEarned"]
    issued = next(e for e in seen if isinstance(e, events.VoucherIssued))
    assert len(issued.voucher_ids) == 6
    changes = [e for e in seen if isinstance(e, events.BalanceChanged)]
    assert all(c.member_id == member.id for c in changes)
