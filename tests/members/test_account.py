"""Profile, marketing consent, data export and account deletion through the member door."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.helpers import Api, Outbox

PHONE = "+355 69 222 3344"
E164 = "+355692223344"

UPDATE = """
mutation($input: ProfileInput!) {
  updateProfile(input: $input) {
    __typename
    ... on Member { firstName lastName email city birthDate gender language }
    ... on Error { code message field }
  }
}"""

CONSENT = """
mutation($c: MarketingChannel!, $g: Boolean!) {
  setMarketingConsent(channel: $c, granted: $g) {
    __typename
    ... on MarketingConsent { channel granted changedAt }
    ... on Error { code field }
  }
}"""

PROFILE = "{ me { firstName lastName email city birthDate gender language marketingConsents { channel granted } } }"


async def update(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    body = await api.gql(UPDATE, {"input": fields}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["updateProfile"]
    return result


async def profile(api: Api, token: str) -> dict[str, Any]:
    body = await api.gql(PROFILE, token=token)
    result: dict[str, Any] = body["data"]["me"]
    return result


async def test_update_profile_changes_only_given_fields(api: Api) -> None:
    token = (await api.sign_up(PHONE))["accessToken"]
    result = await update(
        api, token, firstName="  Arta ", lastName="Hoxha", email="Arta@Example.AL", gender="FEMALE"
    )
    assert result == {
        "__typename": "Member",
        "firstName": "Arta",
        "lastName": "Hoxha",
        "email": "arta@example.al",
        "city": None,
        "birthDate": None,
        "gender": "FEMALE",
        "language": "SQ",
    }
    again = await update(api, token, city="Durrës", language="EN", birthDate="1990-05-17")
    assert again["firstName"] == "Arta" and again["city"] == "Durrës"
    assert again["birthDate"] == "1990-05-17"
    assert (await profile(api, token))["lastName"] == "Hoxha"


async def test_invalid_profile_input_changes_nothing(api: Api) -> None:
    token = (await api.sign_up(PHONE))["accessToken"]
    await update(api, token, firstName="Arta")
    bad = await update(api, token, firstName="Besa", email="not-an-email")
    assert bad["__typename"] == "InputError"
    assert bad["field"] == "email" and bad["code"] == "INVALID_INPUT" and bad["message"]
    assert (await profile(api, token))["firstName"] == "Arta"
    too_young = await update(api, token, birthDate="2020-01-01")
    assert too_young["__typename"] == "InputError" and too_young["field"] == "birthDate"
    markup = await update(api, token, lastName="<script>")
    assert markup["__typename"] == "InputError" and markup["field"] == "lastName"


async def test_language_choice_sets_sms_language(api: Api, outbox: Outbox, frozen_now: Any) -> None:
    token = (await api.sign_up(PHONE))["accessToken"]
    albanian = outbox.messages(E164)[-1]["text"]
    await update(api, token, language="EN")
    frozen_now[0] += timedelta(seconds=31)
    await api.request_otp(PHONE)
    english = outbox.messages(E164)[-1]["text"]
    assert albanian != english
    assert "code" in english.lower()


async def test_marketing_consent_is_recorded_per_channel(api: Api) -> None:
    token = (await api.sign_up(PHONE))["accessToken"]
    assert (await profile(api, token))["marketingConsents"] == []
    granted = (await api.gql(CONSENT, {"c": "SMS", "g": True}, token=token))["data"]
    assert granted["setMarketingConsent"]["granted"] is True
    await api.gql(CONSENT, {"c": "EMAIL", "g": True}, token=token)
    await api.gql(CONSENT, {"c": "SMS", "g": False}, token=token)
    consents = {
        c["channel"]: c["granted"] for c in (await profile(api, token))["marketingConsents"]
    }
    assert consents == {"SMS": False, "EMAIL": True}


async def test_export_holds_personal_data_and_ledger(api: Api) -> None:
    session = await api.sign_up(PHONE)
    token = session["accessToken"]
    await update(api, token, firstName="Arta")
    await api.gql(CONSENT, {"c": "VIBER", "g": True}, token=token)
    body = await api.gql("mutation { exportMyData { data } }", token=token)
    data = body["data"]["exportMyData"]["data"]
    assert data["member"]["phone"] == E164 and data["member"]["firstName"] == "Arta"
    assert data["cards"][0]["number"] == session["member"]["card"]["number"]
    assert data["balance"]["available"] == 80
    assert [(e["kind"], e["points"], e["balanceAfter"]) for e in data["pointsActivity"]] == [
        ("welcome_bonus", 80, 80)
    ]
    assert data["marketingConsents"][0]["channel"] == "viber"


async def test_export_needs_a_session(api: Api) -> None:
    body = await api.gql("mutation { exportMyData { data } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_delete_account_erases_and_number_never_gets_bonus_twice(
    api: Api, frozen_now: Any
) -> None:
    first = await api.sign_up(PHONE)
    token = first["accessToken"]
    body = await api.gql("mutation { deleteAccount { deletedAt } }", token=token)
    assert body["data"]["deleteAccount"]["deletedAt"]
    # The session is gone with the account.
    gone = await api.gql("{ me { phone } }", token=token)
    assert gone["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # The same number registers again: a new member, a new card, but no second bonus.
    frozen_now[0] += timedelta(seconds=31)
    second = await api.sign_up(PHONE)
    assert second["isNewMember"] is True
    assert second["member"]["card"]["number"] != first["member"]["card"]["number"]
    me = await api.me(second["accessToken"])
    assert me["balance"] == {"available": 0, "pending": 0, "lifetime": 0}
    assert me["activity"]["edges"] == []
