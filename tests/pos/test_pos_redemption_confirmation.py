"""Large redemptions need the member's SMS code (issue 14), through the partner door."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app import clock
from app.db import Database
from app.redemptions.models import VoucherConfirmation
from app.rewards.models import Voucher, VoucherRedemption
from app.settings import Settings
from auth.models import OtpChallenge
from tests.helpers import Api, Outbox
from tests.pos.conftest import VALIDATE, Member, Pos, claim, give_points, make_key

REDEEM = """
mutation($code: String!, $receiptId: String!) {
  redeemVoucher(code: $code, receiptId: $receiptId) {
    __typename
    ... on VoucherRedeemed {
      receiptId redeemedAt exchangeRate
      valueEur { amount currency } storeValue { amount currency } voucher { code status }
    }
    ... on ConfirmationRequired { expiresAt resendAfterSeconds smsSent }
    ... on ExchangeRateError { currency }
    ... on RateLimitedError { retryAfterSeconds }
    ... on Error { code message field }
  }
}"""

CONFIRM = """
mutation($code: String!, $receiptId: String!, $smsCode: String!) {
  confirmVoucherRedemption(code: $code, receiptId: $receiptId, smsCode: $smsCode) {
    __typename
    ... on VoucherRedeemed {
      receiptId redeemedAt exchangeRate
      valueEur { amount currency } storeValue { amount currency } voucher { code status }
    }
    ... on CodeError { attemptsLeft }
    ... on RateLimitedError { retryAfterSeconds }
    ... on Error { code message field }
  }
}"""


async def redeem(pos: Pos, code: str, receipt_id: str) -> dict[str, Any]:
    return await pos.call(REDEEM, "redeemVoucher", {"code": code, "receiptId": receipt_id})


async def confirm(pos: Pos, code: str, receipt_id: str, sms_code: str) -> dict[str, Any]:
    return await pos.call(
        CONFIRM,
        "confirmVoucherRedemption",
        {"code": code, "receiptId": receipt_id, "smsCode": sms_code},
    )


async def large_voucher(api: Api, member: Member, db: Database) -> str:
    """A level 2 voucher (9.60 EUR: the demo's confirmation threshold)."""
    await give_points(db, member.id, 9920, clock.now())
    code: str = (await claim(api, member, 2))["vouchers"][0]["code"]
    return code


async def small_voucher(api: Api, member: Member, db: Database) -> str:
    """A level 1 voucher (4.00 EUR: below the threshold)."""
    await give_points(db, member.id, 5000, clock.now())
    code: str = (await claim(api, member, 1))["vouchers"][0]["code"]
    return code


async def status_of(pos: Pos, code: str) -> str:
    checked = await pos.call(VALIDATE, "validateVoucher", {"code": code})
    return str(checked.get("voucher", {}).get("status") or checked["code"])


async def redemptions_of(db: Database, code: str) -> list[VoucherRedemption]:
    async with db.read_session() as session:
        voucher_id = (
            await session.execute(select(Voucher.id).where(Voucher.code == code.replace("-", "")))
        ).scalar_one()
        rows = await session.execute(
            select(VoucherRedemption).where(VoucherRedemption.voucher_id == voucher_id)
        )
        return list(rows.scalars())


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_large_redemption_needs_the_members_code(
    neptun: Pos, spar: Pos, member: Member, api: Api, db: Database, outbox: Outbox
) -> None:
    code = await large_voucher(api, member, db)
    sms_before = len(outbox.messages(member.phone))

    asked = await redeem(neptun, code, "N-500")
    assert asked["__typename"] == "ConfirmationRequired"
    assert asked["code"] == "CONFIRMATION_REQUIRED" and asked["smsSent"] is True
    expires = asked["expiresAt"]
    assert 299 <= (clock.as_utc(_parse(expires)) - clock.now()).total_seconds() <= 300
    texts = [m["text"] for m in outbox.messages(member.phone)[sms_before:]]
    assert len(texts) == 1 and "9.60 EUR" in texts[0] and "Neptun Prishtina" in texts[0]
    sms = outbox.last_code(member.phone)
    assert await status_of(neptun, code) == "ACTIVE"  # nothing redeemed yet

    # Asked again within 30 s: no second SMS, the same code is still the one to use.
    again = await redeem(neptun, code, "N-500")
    assert again["__typename"] == "ConfirmationRequired" and again["smsSent"] is False
    assert again["expiresAt"] == expires and 0 < again["resendAfterSeconds"] <= 30
    assert len(outbox.messages(member.phone)) == sms_before + 1

    # The code is stored hashed, never as sent.
    async with db.read_session() as session:
        hashes = list((await session.execute(select(OtpChallenge.code_hash))).scalars())
    assert sms not in " ".join(h or "" for h in hashes)

    # A wrong code spends a try and leaves the voucher untouched.
    bad = await confirm(neptun, code, "N-500", wrong(sms))
    assert bad == {
        "__typename": "CodeError",
        "attemptsLeft": 4,
        "code": "CODE_INVALID",
        "message": bad["message"],
        "field": "smsCode",
    }
    assert await status_of(neptun, code) == "ACTIVE"
    malformed = await confirm(neptun, code, "N-500", "12a")
    assert malformed["code"] == "CODE_INVALID" and malformed["field"] == "smsCode"

    # Another store cannot use the confirmation Neptun Prishtina asked for.
    elsewhere = await confirm(spar, code, "S-1", sms)
    assert elsewhere["code"] == "CONFIRMATION_NOT_FOUND"
    assert await status_of(neptun, code) == "ACTIVE"

    done = await confirm(neptun, code, "N-500", sms)
    assert done["__typename"] == "VoucherRedeemed", done
    assert done["valueEur"] == {"amount": 960, "currency": "EUR"}
    assert done["storeValue"] == {"amount": 960, "currency": "EUR"}
    assert done["exchangeRate"] == "1" and done["voucher"]["status"] == "USED"

    # Retries with the same receipt id return the first answer; nothing is redeemed twice.
    assert await confirm(neptun, code, "N-500", sms) == done
    assert await confirm(neptun, code, "N-500", "000000") == done
    assert await redeem(neptun, code, "N-500") == done
    other = await confirm(neptun, code, "N-501", sms)
    assert other["code"] == "VOUCHER_ALREADY_REDEEMED"
    rows = await redemptions_of(db, code)
    assert [(r.receipt_id, r.eur_amount, r.store_amount) for r in rows] == [("N-500", 960, 960)]


def _parse(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


async def test_the_code_expires_after_5_minutes_and_allows_5_tries(
    neptun: Pos, member: Member, api: Api, db: Database, outbox: Outbox, frozen_now: Any
) -> None:
    code = await large_voucher(api, member, db)
    assert (await redeem(neptun, code, "N-1"))["smsSent"] is True
    first = outbox.last_code(member.phone)
    frozen_now[0] += timedelta(minutes=5, seconds=1)
    late = await confirm(neptun, code, "N-1", first)
    assert late["code"] == "CODE_EXPIRED"
    assert await status_of(neptun, code) == "ACTIVE"

    # A new code may be asked for (the resend wait is long over) and is sent.
    assert (await redeem(neptun, code, "N-1"))["smsSent"] is True
    second = outbox.last_code(member.phone)
    answers = [await confirm(neptun, code, "N-1", wrong(second)) for _ in range(5)]
    assert [a.get("attemptsLeft") for a in answers] == [4, 3, 2, 1, 0]
    assert answers[-1]["code"] == "TOO_MANY_ATTEMPTS"
    # Even the right code is refused now; the voucher is untouched.
    assert (await confirm(neptun, code, "N-1", second))["code"] == "TOO_MANY_ATTEMPTS"
    assert await status_of(neptun, code) == "ACTIVE"
    assert await redemptions_of(db, code) == []

    # At most 5 codes per hour for one voucher (sign-in's rule); then no SMS is sent.
    for _ in range(3):
        frozen_now[0] += timedelta(seconds=31)
        assert (await redeem(neptun, code, "N-1"))["smsSent"] is True
    frozen_now[0] += timedelta(seconds=31)
    limited = await redeem(neptun, code, "N-1")
    assert limited["__typename"] == "ConfirmationRequired" and limited["smsSent"] is False
    frozen_now[0] += timedelta(minutes=6)  # that code expired too: now it is a refusal
    assert (await redeem(neptun, code, "N-1"))["__typename"] == "RateLimitedError"
    assert len(outbox.messages(member.phone)) == 1 + 5  # sign-up code + 5 redemption codes


async def test_a_small_voucher_redeems_directly(
    neptun: Pos, member: Member, api: Api, db: Database, outbox: Outbox
) -> None:
    code = await small_voucher(api, member, db)
    sent = len(outbox.messages(member.phone))
    done = await redeem(neptun, code, "N-9")
    assert done["__typename"] == "VoucherRedeemed" and done["valueEur"]["amount"] == 400
    assert len(outbox.messages(member.phone)) == sent


async def test_the_threshold_is_programme_data(
    neptun: Pos, member: Member, api: Api, db: Database, cli_env: None
) -> None:
    from tests.pos.conftest import happy

    code = await large_voucher(api, member, db)
    assert await happy(["programme", "set", "--redemption-threshold", "off"]) == 0
    assert (await redeem(neptun, code, "N-2"))["__typename"] == "VoucherRedeemed"
    small = await small_voucher(api, member, db)
    assert await happy(["programme", "set", "--redemption-threshold", "4"]) == 0
    assert (await redeem(neptun, small, "N-3"))["__typename"] == "ConfirmationRequired"
    for bad in ("0", "-1", "1.234", "lots"):
        assert await happy(["programme", "set", "--redemption-threshold", bad]) == 2


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="real concurrent sessions need PostgreSQL (SQLite serialises every writer)",
)
async def test_concurrent_confirms_and_a_racing_redeem_redeem_once(
    neptun: Pos,
    spar: Pos,
    member: Member,
    api: Api,
    db: Database,
    outbox: Outbox,
    settings: Settings,
    client: httpx.AsyncClient,
) -> None:
    code = await large_voucher(api, member, db)
    assert (await redeem(neptun, code, "N-0"))["smsSent"] is True
    sms = outbox.last_code(member.phone)
    tills = [neptun, *[Pos(client, await make_key(db, settings, "NEP-PRN-01")) for _ in range(3)]]
    results = await asyncio.gather(
        *(confirm(tills[i % 4], code, f"N-{i}", sms) for i in range(8)),
        *(redeem(spar, code, f"S-{i}") for i in range(4)),
    )
    confirms, redeems = results[:8], results[8:]
    assert [r["__typename"] for r in confirms].count("VoucherRedeemed") == 1, confirms
    assert {r.get("code") for r in confirms if r["__typename"] != "VoucherRedeemed"} <= {
        "VOUCHER_ALREADY_REDEEMED"
    }
    assert all(
        r["__typename"] == "RateLimitedError" or r.get("code") == "VOUCHER_ALREADY_REDEEMED"
        for r in redeems
    ), redeems
    assert len(await redemptions_of(db, code)) == 1
    async with db.read_session() as session:
        pending = await session.execute(select(func.count()).select_from(VoucherConfirmation))
        assert pending.scalar_one() == 1
