"""Registration and sign-in through the member door, as the app does it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from app.members.cards import is_valid_card_number
from tests.helpers import VERIFY_OTP, Api, Outbox

PHONE = "+355 69 123 4567"
E164 = "+355691234567"


async def test_new_member_gets_card_and_80_points(api: Api, outbox: Outbox) -> None:
    sent = await api.request_otp(PHONE)
    assert sent == {
        "__typename": "OtpRequested",
        "phone": E164,
        "expiresAt": sent["expiresAt"],
        "resendAfterSeconds": 30,
    }
    messages = outbox.messages(E164)
    assert len(messages) == 1 and "Happy" in messages[0]["text"]
    assert set(messages[0]) == {"to", "text", "sent_at"}

    session = await api.verify_otp(PHONE, outbox.last_code(E164), "MICROSITE")
    assert session["__typename"] == "Session"
    assert session["isNewMember"] is True
    member = session["member"]
    assert member["phone"] == E164
    assert member["registrationChannel"] == "MICROSITE"
    assert is_valid_card_number(member["card"]["number"])
    assert member["balance"] == {"available": 80, "lifetime": 80}

    me = await api.me(session["accessToken"])
    assert me["balance"] == {"available": 80, "pending": 0, "lifetime": 80}
    assert me["card"]["number"] == member["card"]["number"]
    [entry] = me["activity"]["edges"]
    assert entry["node"] == {"kind": "WELCOME_BONUS", "points": 80, "balanceAfter": 80}


async def test_signing_in_again_never_credits_twice(
    api: Api, outbox: Outbox, frozen_now: Any
) -> None:
    first = await api.sign_up(PHONE)
    frozen_now[0] += timedelta(seconds=31)
    second = await api.sign_up(PHONE)
    assert second["isNewMember"] is False
    assert second["member"]["id"] == first["member"]["id"]
    me = await api.me(second["accessToken"])
    assert me["balance"]["available"] == 80
    assert len(me["activity"]["edges"]) == 1


async def test_number_formats_normalise_to_e164(api: Api) -> None:
    for raw in ("069 123 4567", "00355691234567", "+355691234567"):
        sent = await api.gql(
            "mutation($p: String!) { requestOtp(phone: $p) { __typename ... on OtpRequested { phone } ... on Error { code } } }",
            {"p": raw},
        )
        result = sent["data"]["requestOtp"]
        assert result.get("phone", E164) == E164, result


async def test_kosovo_macedonia_montenegro_numbers_accepted(api: Api) -> None:
    for phone, e164 in (
        ("+383 44 123 456", "+38344123456"),
        ("+389 70 123 456", "+38970123456"),
        ("+382 67 123 456", "+38267123456"),
    ):
        sent = await api.request_otp(phone)
        assert sent["phone"] == e164, sent


async def test_invalid_and_foreign_numbers_are_typed_errors(api: Api, outbox: Outbox) -> None:
    cases = {
        "12": "INVALID_PHONE",
        "not a phone": "INVALID_PHONE",
        "+355 4 222 2222": "INVALID_PHONE",  # Tirana landline: not a mobile number
        "+44 7911 123456": "PHONE_REGION_NOT_ALLOWED",
    }
    for phone, code in cases.items():
        result = await api.request_otp(phone)
        assert result["__typename"] == "InputError", (phone, result)
        assert result["code"] == code and result["field"] == "phone"
        assert result["message"]
    assert outbox.messages() == []


async def test_error_messages_follow_the_language(api: Api) -> None:
    sq = await api.request_otp("12", language="sq")
    en = await api.request_otp("12", language="en-GB,en;q=0.8")
    assert sq["message"] == "Ky nuk është numër celulari i vlefshëm."
    assert en["message"] == "This is not a valid mobile phone number."


async def test_sms_text_in_albanian_by_default(api: Api, outbox: Outbox) -> None:
    await api.request_otp(PHONE)
    assert "është kodi juaj Happy" in outbox.messages(E164)[0]["text"]
    await api.sign_up("+355691111111")


async def test_wrong_code_spends_a_try_and_changes_nothing_else(api: Api, outbox: Outbox) -> None:
    await api.request_otp(PHONE)
    code = outbox.last_code(E164)
    wrong = "000000" if code != "000000" else "111111"
    result = await api.verify_otp(PHONE, wrong)
    assert result["__typename"] == "CodeError"
    assert result["code"] == "CODE_INVALID" and result["attemptsLeft"] == 4
    ok = await api.verify_otp(PHONE, code)
    assert ok["__typename"] == "Session"


async def test_five_tries_per_code(api: Api, outbox: Outbox) -> None:
    await api.request_otp(PHONE)
    code = outbox.last_code(E164)
    wrong = "000000" if code != "000000" else "111111"
    left = []
    for _ in range(5):
        result = await api.verify_otp(PHONE, wrong)
        left.append((result["code"], result["attemptsLeft"]))
    assert left == [
        ("CODE_INVALID", 4),
        ("CODE_INVALID", 3),
        ("CODE_INVALID", 2),
        ("CODE_INVALID", 1),
        ("TOO_MANY_ATTEMPTS", 0),
    ]
    # The right code no longer works either.
    result = await api.verify_otp(PHONE, code)
    assert result["code"] == "TOO_MANY_ATTEMPTS"


async def test_aliased_verifies_in_one_request_get_five_tries(api: Api, outbox: Outbox) -> None:
    await api.request_otp(PHONE)
    code = outbox.last_code(E164)
    guesses = [*[f"{n:06d}" for n in range(12) if f"{n:06d}" != code][:10], code]
    fields = "\n".join(
        f'v{i}: verifyOtp(phone: "{E164}", code: "{g}") {{ __typename ... on Error {{ code }} }}'
        for i, g in enumerate(guesses)
    )
    body = await api.gql(f"mutation {{ {fields} }}")
    results = [body["data"][f"v{i}"] for i in range(len(guesses))]
    typenames = [r["__typename"] for r in results]
    assert "Session" not in typenames
    assert [r["code"] for r in results[:5]].count("CODE_INVALID") == 4
    assert all(r["code"] == "TOO_MANY_ATTEMPTS" for r in results[4:])


async def test_too_many_aliases_refused(api: Api) -> None:
    fields = "\n".join(f'v{i}: requestOtp(phone: "12") {{ __typename }}' for i in range(16))
    body = await api.gql(f"mutation {{ {fields} }}")
    assert "errors" in body and body.get("data") is None


async def test_code_expires_after_five_minutes(api: Api, outbox: Outbox, frozen_now: Any) -> None:
    await api.request_otp(PHONE)
    code = outbox.last_code(E164)
    frozen_now[0] += timedelta(minutes=5, seconds=1)
    result = await api.verify_otp(PHONE, code)
    assert result["code"] == "CODE_EXPIRED"


async def test_code_works_once(api: Api, outbox: Outbox) -> None:
    await api.request_otp(PHONE)
    code = outbox.last_code(E164)
    assert (await api.verify_otp(PHONE, code))["__typename"] == "Session"
    again = await api.verify_otp(PHONE, code)
    assert again["__typename"] == "CodeError"


async def test_malformed_code_is_input_error(api: Api) -> None:
    await api.request_otp(PHONE)
    result = await api.verify_otp(PHONE, "12ab")
    assert result["__typename"] == "InputError" and result["field"] == "code"


async def test_resend_waits_30_seconds(api: Api, outbox: Outbox, frozen_now: Any) -> None:
    await api.request_otp(PHONE)
    frozen_now[0] += timedelta(seconds=10)
    result = await api.request_otp(PHONE)
    assert result["__typename"] == "RateLimitedError"
    assert result["code"] == "RATE_LIMITED" and result["retryAfterSeconds"] == 20
    assert len(outbox.messages(E164)) == 1
    frozen_now[0] += timedelta(seconds=21)
    assert (await api.request_otp(PHONE))["__typename"] == "OtpRequested"
    # The new code replaces the old one.
    first, second = outbox.messages(E164)
    assert first["text"] != second["text"]


async def test_five_codes_per_number_per_hour(api: Api, outbox: Outbox, frozen_now: Any) -> None:
    start = frozen_now[0]
    for _ in range(5):
        assert (await api.request_otp(PHONE))["__typename"] == "OtpRequested"
        frozen_now[0] += timedelta(seconds=31)
    refused = await api.request_otp(PHONE)
    assert refused["__typename"] == "RateLimitedError"
    assert 0 < refused["retryAfterSeconds"] <= 3600
    frozen_now[0] = start + timedelta(hours=1, seconds=1)
    assert (await api.request_otp(PHONE))["__typename"] == "OtpRequested"
    assert len(outbox.messages(E164)) == 6


async def test_codes_limited_per_client_address(api: Api, settings: Any, outbox: Outbox) -> None:
    limit = settings.otp_sends_per_ip_per_hour
    for n in range(limit):
        result = await api.request_otp(f"+35569{n:07d}")
        assert result["__typename"] == "OtpRequested", (n, result)
    refused = await api.request_otp("+355699999999")
    assert refused["__typename"] == "RateLimitedError"
    assert len(outbox.messages()) == limit


async def test_codes_are_stored_hashed(api: Api, outbox: Outbox, db: Any) -> None:
    from sqlalchemy import select

    from auth.models import OtpChallenge

    await api.request_otp(PHONE)
    code = outbox.last_code(E164)
    async with db.read_session() as session:
        row = (await session.execute(select(OtpChallenge))).scalar_one()
    assert row.code_hash and code not in row.code_hash and len(row.code_hash) == 64
    assert E164 not in row.phone_hash


async def test_double_submit_of_the_same_code_credits_once(api: Api, outbox: Outbox) -> None:
    await api.request_otp(PHONE)
    code = outbox.last_code(E164)
    results = await asyncio.gather(
        *(api.gql(VERIFY_OTP, {"phone": PHONE, "code": code, "channel": "APP"}) for _ in range(2))
    )
    kinds = sorted(r["data"]["verifyOtp"]["__typename"] for r in results)
    assert kinds == ["CodeError", "Session"]
