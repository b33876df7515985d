"""Money across currencies (issue 14): exchange rates, amounts on redemption, member(scan)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, select

from app import clock
from app.db import Database
from app.fx import service as fx
from app.fx.models import ExchangeRate
from app.rewards.models import Voucher, VoucherRedemption
from app.runtime import build_runtime
from app.settings import Settings
from tests.helpers import Api
from tests.pos.conftest import Member, Pos, claim, give_points, happy, make_key
from tests.pos.test_pos_redemption_confirmation import redeem
from wallet_passes.dynamic_qr import issue_card_token

MEMBER = """
query($scan: String!) {
  member(scan: $scan) {
    __typename
    ... on TillMemberView {
      cardNumber firstName availablePoints
      vouchers { maskedCode value { amount currency } valueEur { amount currency }
                 storeValue { amount currency } expiresAt }
    }
    ... on RateLimitedError { retryAfterSeconds }
    ... on Error { code message field }
  }
}"""


def test_conversion_rounds_half_up_to_minor_units() -> None:
    rates = {"ALL": Decimal("100.25"), "MKD": Decimal("61.495")}
    assert fx.convert(960, "EUR", "ALL", rates) == 96240  # 962.40 ALL
    assert fx.convert(400, "EUR", "MKD", rates) == 24598  # 245.98 MKD
    assert fx.convert(1, "EUR", "MKD", rates) == 61  # 0.61495 -> 0.61
    assert fx.convert(3, "EUR", "MKD", {"MKD": Decimal("61.5")}) == 185  # 1.845 -> 1.85
    assert fx.convert(96240, "ALL", "EUR", rates) == 960
    assert fx.convert(400, "EUR", "EUR", rates) == 400
    assert fx.parse_rate("100.250000") == Decimal("100.25")
    for bad in ("0", "-1", "abc", "NaN", "Infinity", "1.1234567", "1e9", ""):
        with pytest.raises(fx.InvalidInput):
            fx.parse_rate(bad)


async def test_redemption_in_an_all_store_gives_and_keeps_both_amounts(
    spar: Pos, member: Member, api: Api, db: Database
) -> None:
    await give_points(db, member.id, 4920, clock.now())
    code = (await claim(api, member, 1))["vouchers"][0]["code"]
    done = await redeem(spar, code, "S-77")
    assert done["__typename"] == "VoucherRedeemed"
    assert done["valueEur"] == {"amount": 400, "currency": "EUR"}
    assert done["storeValue"] == {"amount": 40100, "currency": "ALL"}  # 4.00 x 100.25
    assert done["exchangeRate"] == "100.25"
    async with db.read_session() as session:
        row = (await session.execute(select(VoucherRedemption))).scalar_one()
    assert (row.value_amount, row.currency, row.eur_amount) == (400, "EUR", 400)
    assert (row.store_amount, row.store_currency, row.fx_rate) == (40100, "ALL", Decimal("100.25"))
    # A retry returns the stored answer, also after the rate changed.
    async with db.unit_of_work() as session:
        await fx.set_rate(
            session, currency="ALL", rate="120", valid_from=fx.DEMO_RATES_FROM, now=clock.now()
        )
    assert await redeem(spar, code, "S-77") == done


async def test_no_rate_for_the_day_refuses_until_the_operator_sets_one(
    spar: Pos, member: Member, api: Api, db: Database, cli_env: None, frozen_now: Any
) -> None:
    await give_points(db, member.id, 4920, clock.now())
    code = (await claim(api, member, 1))["vouchers"][0]["code"]
    async with db.unit_of_work() as session:
        await session.execute(delete(ExchangeRate).where(ExchangeRate.currency == "ALL"))
    refused = await redeem(spar, code, "S-1")
    assert refused["__typename"] == "ExchangeRateError"
    assert refused["code"] == "EXCHANGE_RATE_MISSING" and refused["currency"] == "ALL"
    async with db.read_session() as session:
        voucher = (
            await session.execute(select(Voucher).where(Voucher.code == code.replace("-", "")))
        ).scalar_one()
        assert voucher.status == "issued"
        assert (await session.execute(select(VoucherRedemption))).first() is None

    today = fx.programme_day(clock.now(), "Europe/Tirane")
    tomorrow = today + timedelta(days=1)
    assert await happy(["fx", "set", "ALL", "120", "--from", tomorrow.isoformat()]) == 0
    assert (await redeem(spar, code, "S-1"))["code"] == "EXCHANGE_RATE_MISSING"
    assert await happy(["fx", "set", "all", "99.5", "--from", today.isoformat()]) == 0
    done = await redeem(spar, code, "S-1")
    assert done["storeValue"] == {"amount": 39800, "currency": "ALL"}
    assert done["exchangeRate"] == "99.5"
    # Tomorrow (programme day) the newer rate applies to new redemptions.
    await give_points(db, member.id, 5000, clock.now())
    second = (await claim(api, member, 1))["vouchers"][0]["code"]
    frozen_now[0] += timedelta(days=1)
    later = await redeem(spar, second, "S-2")
    assert later["storeValue"] == {"amount": 48000, "currency": "ALL"}


async def test_fx_cli_sets_lists_and_refuses_bad_input(
    db: Database, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await happy(["fx", "set", "MKD", "61.5", "--from", "2026-01-01"]) == 0
    assert "1 EUR = 61.5 MKD from 2026-01-01" in capsys.readouterr().out
    assert await happy(["fx", "set", "MKD", "61.6153", "--from", "2026-02-01"]) == 0
    capsys.readouterr()
    assert await happy(["fx", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "MKD\t61.6153\tfrom 2026-02-01",
        "MKD\t61.5\tfrom 2026-01-01",
    ]
    for argv, exit_code, says in [
        (["fx", "set", "ALL", "abc", "--from", "2026-01-01"], 1, "positive number"),
        (["fx", "set", "ALL", "-3", "--from", "2026-01-01"], 1, "positive number"),
        (["fx", "set", "ALL", "1.1234567", "--from", "2026-01-01"], 1, "6 decimals"),
        (["fx", "set", "EUR", "2", "--from", "2026-01-01"], 1, "base currency"),
        (["fx", "set", "ALL", "100", "--from", "2026-13-01"], 2, "YYYY-MM-DD"),
        (["fx", "set", "AL", "100"], 2, "3-letter"),
    ]:
        assert await happy(argv) == exit_code, argv
        err = capsys.readouterr().err
        assert err.startswith("happy: ") and says in err and "Traceback" not in err, err
    async with db.read_session() as session:
        assert len(await fx.list_rates(session)) == 2


async def test_member_scan_shows_what_a_till_needs(
    spar: Pos, neptun: Pos, member: Member, api: Api, db: Database, settings: Settings
) -> None:
    await give_points(db, member.id, 4920 + 5000 + 10000, clock.now())
    level1 = [v["code"] for v in (await claim(api, member, 1))["vouchers"]]
    level2 = [v["code"] for v in (await claim(api, member, 2))["vouchers"]]
    assert (await redeem(spar, level1[0], "S-1"))["__typename"] == "VoucherRedeemed"
    # One voucher restricted to Neptun: not usable at Spar.
    async with db.unit_of_work() as session:
        restricted = (
            await session.execute(select(Voucher).where(Voucher.code == level1[1].replace("-", "")))
        ).scalar_one()
        restricted.partner_id = await _partner_id(session, "NEPTUN")
    by_number = await spar.call(MEMBER, "member", {"scan": member.card})
    assert by_number["__typename"] == "TillMemberView"
    assert by_number["cardNumber"] == "*" * 12 + member.card[-4:]
    assert by_number["availablePoints"] == 80 + 19920 - 15000

    # A till sees only the last four symbols: the codes themselves stay with the member.
    def masked(code: str) -> str:
        return "****-****-**" + code[-5:]

    shown = [v["maskedCode"] for v in by_number["vouchers"]]
    assert sorted(shown) == sorted(masked(c) for c in level1[2:] + level2)
    assert not any(c in str(by_number) for c in level1 + level2)
    values = {v["maskedCode"]: v for v in by_number["vouchers"]}
    assert values[masked(level2[0])]["storeValue"] == {"amount": 96240, "currency": "ALL"}
    assert values[masked(level2[0])]["valueEur"] == {"amount": 960, "currency": "EUR"}
    assert values[masked(level1[2])]["storeValue"] == {"amount": 40100, "currency": "ALL"}
    at_neptun = await neptun.call(MEMBER, "member", {"scan": member.card})
    assert len(at_neptun["vouchers"]) == 5 + 5  # the restricted one is usable there
    assert at_neptun["vouchers"][0]["storeValue"]["currency"] == "EUR"

    secret = build_runtime(settings).keys.card_token_secret
    token = issue_card_token(secret, member.card, clock.now(), ttl=60)
    assert await spar.call(MEMBER, "member", {"scan": token}) == by_number
    # Nothing a till does not need: no phone, no receipts in the type.
    body = await spar.gql('{ __type(name: "TillMemberView") { fields { name } } }')
    fields = {f["name"] for f in body["data"]["__type"]["fields"]}
    assert fields == {"cardNumber", "firstName", "availablePoints", "vouchers"}


async def _partner_id(session: Any, code: str) -> int:
    from app.partners.models import Partner

    return int((await session.execute(select(Partner.id).where(Partner.code == code))).scalar_one())


async def test_member_scan_misses_count_against_the_key(
    spar: Pos, member: Member, db: Database, settings: Settings, client: Any
) -> None:
    unknown = await spar.call(MEMBER, "member", {"scan": "7001000000000000"})
    assert unknown["__typename"] == "MemberNotIdentifiedError"
    assert unknown["code"] == "CARD_NOT_FOUND" and unknown["field"] == "scan"
    assert (await spar.call(MEMBER, "member", {"scan": "x" * 2000}))["code"] == "CARD_NOT_FOUND"
    for i in range(28):
        await spar.call(MEMBER, "member", {"scan": f"garbage-{i}"})
    blocked = await spar.call(MEMBER, "member", {"scan": member.card})
    assert blocked["__typename"] == "RateLimitedError" and blocked["retryAfterSeconds"] > 0
    # Another key (another till) has its own budget.
    other = Pos(client, await make_key(db, settings, "SPAR-TIR-01"))
    assert (await other.call(MEMBER, "member", {"scan": member.card}))["__typename"] == (
        "TillMemberView"
    )
    no_key = await Pos(client, None).gql(MEMBER, {"scan": member.card})
    assert no_key["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
