"""The kiosk journey through the kiosk door: enrolment, identification, check-in, the
wheel, prize exchange with SMS code, pickup, and every rule's refusal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app import clock
from app.db import Database
from app.ledger.models import EntryKind, PointsEntry
from app.members.models import Member as MemberModel
from app.prizes.models import Prize
from app.runtime import build_runtime
from app.settings import Settings
from tests.helpers import Outbox
from tests.kiosk.conftest import (
    CANCEL_KIOSK,
    CANCEL_POS,
    CLAIM,
    END_VISIT,
    ENROL,
    HAND_OVER_KIOSK,
    HAND_OVER_POS,
    WHEEL,
    KioskClient,
    create_kiosk,
    enrolled_kiosk,
)
from tests.pos.conftest import Member, Pos, give_points, happy, make_key
from wallet_passes.dynamic_qr import issue_card_token


async def test_kiosk_create_prints_code_last_and_enrols_once(
    coalition: None,
    db: Database,
    client: httpx.AsyncClient,
    outbox: Outbox,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await happy(["kiosk", "create", "--store", "SPAR-TIR-01", "--label", "Entrance"]) == 0
    code = capsys.readouterr().out.strip().splitlines()[-1]
    assert len(code.replace("-", "")) == 10
    assert not set(code) & set("01OIL")  # no ambiguous characters
    tablet = KioskClient(client, None, outbox)
    enrolled = await tablet.call(ENROL, "enrolKiosk", {"code": code.lower(), "name": "Tab 1"})
    assert enrolled["__typename"] == "KioskEnrolled", enrolled
    assert enrolled["deviceToken"].startswith("hkd_")
    assert enrolled["kiosk"]["storeCode"] == "SPAR-TIR-01"
    assert enrolled["kiosk"]["label"] == "Entrance"
    again = await tablet.call(ENROL, "enrolKiosk", {"code": code, "name": "Tab 2"})
    assert again["__typename"] == "EnrolmentError"
    assert again["code"] == "ENROLMENT_CODE_INVALID"

    tablet.token = enrolled["deviceToken"]
    assert (await tablet.gql("{ kiosk { storeName } }"))["data"]["kiosk"]["storeName"] == (
        "Spar Kombinat"
    )
    assert await happy(["kiosk", "list"]) == 0
    listing = capsys.readouterr().out
    assert "SPAR-TIR-01" in listing and "Tab 1" in listing
    kiosk_id = enrolled["kiosk"]["kioskId"]
    assert await happy(["kiosk", "revoke", kiosk_id]) == 0
    refused = await tablet.gql("{ kiosk { storeName } }")
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_enrolment_code_expires_and_guessing_is_limited(
    coalition: None,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    outbox: Outbox,
    frozen_now: list[Any],
) -> None:
    code = await create_kiosk(db, settings, "SPAR-TIR-01")
    frozen_now[0] += timedelta(hours=24, seconds=1)
    tablet = KioskClient(client, None, outbox)
    late = await tablet.call(ENROL, "enrolKiosk", {"code": code, "name": "Tab"})
    assert late["code"] == "ENROLMENT_CODE_INVALID"
    kinds = [
        (await tablet.call(ENROL, "enrolKiosk", {"code": f"ABCDE-FGH{i % 10}K", "name": "T"}))[
            "__typename"
        ]
        for i in range(10)
    ]
    assert kinds[-1] == "RateLimitedError" and kinds[0] == "EnrolmentError"


async def test_missing_or_bad_token_is_unauthenticated(kiosk: KioskClient) -> None:
    anonymous = KioskClient(kiosk.client, None, kiosk.outbox)
    body = await anonymous.gql("{ prizes { id } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    forged = KioskClient(kiosk.client, kiosk.token[:-2] + "xx", kiosk.outbox)  # type: ignore[index]
    body = await forged.gql("{ prizes { id } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_identify_by_static_card_and_rotating_token(
    kiosk: KioskClient, member: Member, settings: Settings, frozen_now: list[Any]
) -> None:
    visit = await kiosk.by_card(member.card)
    assert visit["__typename"] == "Visit", visit
    assert visit["balance"] == 80 and visit["isNewMember"] is False
    assert visit["checkedInToday"] is False and visit["playsLeft"] == 3
    secret = build_runtime(settings).keys.card_token_secret
    token = issue_card_token(secret, member.card, clock.now(), ttl=60)
    assert (await kiosk.by_card(token))["__typename"] == "Visit"
    frozen_now[0] += timedelta(seconds=61)
    expired = await kiosk.by_card(token)
    assert expired["code"] == "CARD_TOKEN_EXPIRED"
    unknown = await kiosk.by_card("7001000000000")
    assert unknown["__typename"] == "MemberNotIdentifiedError"


async def test_new_number_registers_at_the_kiosk_with_the_welcome_bonus(
    kiosk: KioskClient, db: Database, frozen_now: list[Any]
) -> None:
    visit = await kiosk.by_phone("+355691112233")
    assert visit["__typename"] == "Visit", visit
    assert visit["isNewMember"] is True and visit["balance"] == 80
    async with db.read_session() as session:
        row = (
            await session.execute(
                select(MemberModel).where(MemberModel.phone_e164 == "+355691112233")
            )
        ).scalar_one()
    assert row.registration_channel.value == "kiosk"
    frozen_now[0] += timedelta(seconds=31)
    again = await kiosk.by_phone("+355691112233")
    assert again["isNewMember"] is False and again["balance"] == 80


async def test_phone_code_rules_are_the_member_doors(kiosk: KioskClient) -> None:
    from tests.kiosk.conftest import IDENTIFY_PHONE, REQUEST_CODE

    sent = await kiosk.call(REQUEST_CODE, "requestKioskCode", {"phone": "+355691112244"})
    assert sent["resendAfterSeconds"] == 30
    resend = await kiosk.call(REQUEST_CODE, "requestKioskCode", {"phone": "+355691112244"})
    assert resend["__typename"] == "RateLimitedError"
    for left in (4, 3, 2, 1):
        wrong = await kiosk.call(
            IDENTIFY_PHONE, "identifyByPhone", {"phone": "+355691112244", "code": "000000"}
        )
        assert wrong["__typename"] == "CodeError" and wrong["attemptsLeft"] == left, wrong
    bad = await kiosk.call(REQUEST_CODE, "requestKioskCode", {"phone": "12"})
    assert bad["__typename"] == "InputError" and bad["code"] == "INVALID_PHONE"


async def test_check_in_once_per_store_per_day(
    kiosk: KioskClient,
    member: Member,
    db: Database,
    settings: Settings,
    outbox: Outbox,
    frozen_now: list[Any],
) -> None:
    session = (await kiosk.by_card(member.card))["session"]
    first = await kiosk.check_in(session)
    assert first == {"__typename": "CheckedIn", "pointsAwarded": 10, "balance": 90}
    second = await kiosk.check_in(session)
    assert second["__typename"] == "KioskRuleError" and second["code"] == "ALREADY_CHECKED_IN"
    assert second["message"] == "You have already checked in at this store today."
    sq = await kiosk.gql(
        "mutation($s: String!) { checkIn(session: $s) { ... on Error { message } } }",
        {"s": session},
        language="sq",
    )
    assert sq["data"]["checkIn"]["message"] == "Jeni regjistruar tashmë sot në këtë dyqan."
    # Another store is another check-in.
    other = await enrolled_kiosk(db, settings, kiosk.client, outbox, "SPAR-TIR-02")
    assert (await other.check_in((await other.by_card(member.card))["session"]))[
        "pointsAwarded"
    ] == 10
    # The next day, again.
    frozen_now[0] += timedelta(days=1)
    session = (await kiosk.by_card(member.card))["session"]
    assert (await kiosk.check_in(session))["balance"] == 110
    async with db.read_session() as s:
        kinds = (
            await s.execute(select(PointsEntry.kind).where(PointsEntry.member_id == member.id))
        ).scalars()
        assert list(kinds).count(EntryKind.CHECK_IN) == 3


async def test_spin_uses_plays_and_stores_the_odds(
    kiosk: KioskClient, member: Member, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = (await kiosk.gql(WHEEL))["data"]["wheel"]
    assert [s["kind"] for s in wheel] == ["POINTS", "POINTS", "VOUCHER", "GOODS", "NOTHING"]
    session = (await kiosk.by_card(member.card))["session"]
    spins = [await kiosk.spin(session) for _ in range(3)]
    assert [s["playsLeft"] for s in spins] == [2, 1, 0]
    segment_ids = {s["id"] for s in wheel}
    for result in spins:
        assert result["__typename"] == "SpinResult"
        assert result["segmentId"] in segment_ids
        if result["kind"] == "GOODS":
            assert result["pickupCode"]
    balance = 80 + sum(s["pointsWon"] for s in spins)
    assert spins[-1]["balance"] == balance
    refused = await kiosk.spin(session)
    assert refused["__typename"] == "KioskRuleError" and refused["code"] == "NO_PLAYS_LEFT"
    assert await happy(["wheel", "draws", "--store", "SPAR-TIR-01"]) == 0
    report = capsys.readouterr().out
    assert report.startswith("# 3 draw(s) at SPAR-TIR-01")
    assert "CONFIGURED %" in report and "Try again" in report


async def test_segment_out_of_stock_or_budget_cannot_come_up(
    kiosk: KioskClient, member: Member, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await happy(["wheel", "list", "--store", "SPAR-TIR-01"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()[1:]]
    for segment, label, *_ in rows:
        if label == "Surprise gift":
            assert await happy(["wheel", "set", segment, "--stock", "0", "--weight", "1000"]) == 0
        elif label == "50 points":
            assert await happy(["wheel", "set", segment, "--budget", "40", "--weight", "1000"]) == 0
        elif label != "Try again":
            assert await happy(["wheel", "set", segment, "--inactive"]) == 0
    assert await happy(["kiosk", "rules", "--store", "SPAR-TIR-01", "--plays-per-day", "8"]) == 0
    capsys.readouterr()
    session = (await kiosk.by_card(member.card))["session"]
    outcomes = {(await kiosk.spin(session))["label"] for _ in range(8)}
    assert outcomes == {"Try again"}


async def test_exchange_with_sms_code_pickup_and_hand_over(
    kiosk: KioskClient,
    member: Member,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    cli_env: None,
) -> None:
    prizes = await kiosk.prizes()
    assert len(prizes) == 3 and min(p["pointsPrice"] for p in prizes) <= 80
    cheap = min(prizes, key=lambda p: p["pointsPrice"])
    dear = max(prizes, key=lambda p: p["pointsPrice"])
    session = (await kiosk.by_card(member.card))["session"]
    short = await kiosk.request_exchange(session, dear["id"])
    assert short["__typename"] == "InsufficientPointsError"
    assert short["pointsNeeded"] == dear["pointsPrice"]
    requested = await kiosk.request_exchange(session, cheap["id"])
    assert requested["__typename"] == "PrizeExchangeRequested", requested
    sms = kiosk.outbox.messages(member.phone)[-1]["text"]
    assert cheap["name"] in sms and "Spar Kombinat" in sms
    code = kiosk.outbox.last_code(member.phone)
    wrong = await kiosk.confirm_exchange(session, requested["exchangeId"], "000000")
    assert wrong["__typename"] == "CodeError" and wrong["attemptsLeft"] == 4
    done = await kiosk.confirm_exchange(session, requested["exchangeId"], code)
    assert done["__typename"] == "PrizeExchangeConfirmed", done
    assert done["balance"] == 80 - cheap["pointsPrice"]
    retry = await kiosk.confirm_exchange(session, requested["exchangeId"], code)
    assert retry == done
    async with db.read_session() as s:
        stock = (
            await s.execute(select(Prize.stock).where(Prize.public_id == cheap["id"]))
        ).scalar_one()
        exchanges = (
            await s.execute(select(PointsEntry).where(PointsEntry.kind == EntryKind.PRIZE_EXCHANGE))
        ).scalars()
        assert len(list(exchanges)) == 1
    assert stock == 59  # demo: 60 chocolate bars

    # Another store's till cannot hand it over; this store's till can, once.
    other = Pos(client, await make_key(db, settings, "SPAR-VLO-01"))
    elsewhere = await other.call(HAND_OVER_POS, "handOverPrize", {"code": done["pickupCode"]})
    assert elsewhere["code"] == "PICKUP_CODE_NOT_FOUND"
    till = Pos(client, await make_key(db, settings, "SPAR-TIR-01"))
    handed = await till.call(HAND_OVER_POS, "handOverPrize", {"code": done["pickupCode"]})
    assert handed["__typename"] == "PrizeHandedOver" and handed["prizeName"] == cheap["name"]
    twice = await till.call(HAND_OVER_POS, "handOverPrize", {"code": done["pickupCode"]})
    assert twice["code"] == "PRIZE_ALREADY_HANDED_OVER"
    cancel = await till.call(CANCEL_POS, "cancelPrizeExchange", {"code": done["pickupCode"]})
    assert cancel["code"] == "PRIZE_ALREADY_HANDED_OVER"


async def test_staff_pin_hand_over_and_cancel_restores_points_and_stock(
    kiosk: KioskClient, member: Member, db: Database, cli_env: None
) -> None:
    session = (await kiosk.by_card(member.card))["session"]
    cheap = min(await kiosk.prizes(), key=lambda p: p["pointsPrice"])
    requested = await kiosk.request_exchange(session, cheap["id"])
    code = kiosk.outbox.last_code(member.phone)
    done = await kiosk.confirm_exchange(session, requested["exchangeId"], code)
    pickup = done["pickupCode"]
    unset = await kiosk.call(CANCEL_KIOSK, "cancelPrizeExchange", {"code": pickup, "pin": "1234"})
    assert unset["code"] == "STAFF_PIN_NOT_SET"
    assert await happy(["kiosk", "pin", "--store", "SPAR-TIR-01", "--pin", "4821"]) == 0
    wrong = await kiosk.call(CANCEL_KIOSK, "cancelPrizeExchange", {"code": pickup, "pin": "1234"})
    assert wrong["__typename"] == "StaffPinError" and wrong["code"] == "STAFF_PIN_INVALID"
    cancelled = await kiosk.call(
        CANCEL_KIOSK, "cancelPrizeExchange", {"code": pickup, "pin": "4821"}
    )
    assert cancelled["__typename"] == "PrizeExchangeCancelled", cancelled
    assert cancelled["pointsRestored"] == cheap["pointsPrice"]
    again = await kiosk.call(CANCEL_KIOSK, "cancelPrizeExchange", {"code": pickup, "pin": "4821"})
    assert again["code"] == "PRIZE_EXCHANGE_CANCELLED"
    handed = await kiosk.call(HAND_OVER_KIOSK, "handOverPrize", {"code": pickup, "pin": "4821"})
    assert handed["code"] == "PRIZE_EXCHANGE_CANCELLED"
    assert (await kiosk.prizes())[0]["inStock"] is True
    visit = await kiosk.by_card(member.card)
    assert visit["balance"] == 80
    async with db.read_session() as s:
        stock = (
            await s.execute(select(Prize.stock).where(Prize.public_id == cheap["id"]))
        ).scalar_one()
    assert stock == 60
    # Wrong PINs are limited per kiosk.
    results = [
        (await kiosk.call(HAND_OVER_KIOSK, "handOverPrize", {"code": pickup, "pin": "0000"}))[
            "__typename"
        ]
        for _ in range(5)
    ]
    assert results[-1] == "RateLimitedError"


async def test_visit_ends_idle_on_end_visit_and_on_another_kiosk(
    kiosk: KioskClient,
    member: Member,
    db: Database,
    settings: Settings,
    frozen_now: list[Any],
) -> None:
    session = (await kiosk.by_card(member.card))["session"]
    other = await enrolled_kiosk(db, settings, kiosk.client, kiosk.outbox, "SPAR-TIR-01")
    stolen = await other.check_in(session)
    assert stolen["__typename"] == "VisitEndedError" and stolen["code"] == "VISIT_ENDED"
    frozen_now[0] += timedelta(seconds=59)
    assert (await kiosk.spin(session))["__typename"] == "SpinResult"  # the clock restarts
    frozen_now[0] += timedelta(seconds=59)
    assert (await kiosk.spin(session))["__typename"] == "SpinResult"
    frozen_now[0] += timedelta(seconds=61)
    assert (await kiosk.spin(session))["code"] == "VISIT_ENDED"
    session = (await kiosk.by_card(member.card))["session"]
    assert (await kiosk.call(END_VISIT, "endVisit", {"session": session}))["ended"] is True
    assert (await kiosk.check_in(session))["code"] == "VISIT_ENDED"


async def test_claim_reward_at_the_kiosk(kiosk: KioskClient, member: Member, db: Database) -> None:
    session = (await kiosk.by_card(member.card))["session"]
    short = await kiosk.call(CLAIM, "claimReward", {"session": session, "level": 1})
    assert short["__typename"] == "InsufficientPointsError"
    await give_points(db, member.id, 4920, clock.now())
    claimed = await kiosk.call(CLAIM, "claimReward", {"session": session, "level": 1})
    assert claimed == {
        "__typename": "KioskRewardClaimed",
        "level": 1,
        "pointsSpent": 5000,
        "voucherCount": 6,
        "balance": 0,
    }


async def test_tablet_app_keeps_the_token_in_an_httponly_cookie(
    coalition: None, db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    code = await create_kiosk(db, settings, "SPAR-TIR-01")
    web = {"X-Happy-Client": "web"}
    response = await client.post(
        "/kiosk/graphql",
        json={"query": ENROL, "variables": {"code": code, "name": "Tab"}},
        headers=web,
    )
    body = response.json()["data"]["enrolKiosk"]
    assert body["__typename"] == "KioskEnrolled" and body["deviceToken"] is None
    cookie = response.headers["set-cookie"]
    assert "happy_kiosk=hkd_" in cookie and "HttpOnly" in cookie
    assert "Path=/kiosk/graphql" in cookie and "samesite=strict" in cookie.lower()
    assert "Secure" in cookie
    # The browser sends it back (the test client does not keep Secure cookies over http).
    jar = {"Cookie": cookie.split(";")[0]}
    query = {"query": "{ kiosk { storeCode } }"}
    ok = await client.post("/kiosk/graphql", json=query, headers={**web, **jar})
    assert ok.json()["data"]["kiosk"]["storeCode"] == "SPAR-TIR-01"
    # Without the header (a forged cross-site post) the cookie is not accepted.
    forged = await client.post("/kiosk/graphql", json=query, headers=jar)
    assert forged.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
