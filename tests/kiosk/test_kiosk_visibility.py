"""What a kiosk may see: first name, balance, its own results; never contact data,
receipts, vouchers, cards or other members. The schema is walked by introspection."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import httpx

from app.main import create_app  # noqa: F401 (the door under test is the app's)
from tests.kiosk.conftest import KioskClient
from tests.pos.conftest import Member

INTROSPECTION = """
{ __schema { types { name kind
  fields { name args { name } type { name kind ofType { name kind ofType { name kind } } } }
} } }"""

# Field or argument names that would carry what a public tablet must not show or ask for.
FORBIDDEN_NAME = re.compile(
    r"^(phone\w*|\w*e164|\w*email|\w*address|lastName|birth\w*|gender|city|consents?|"
    r"receipts?\w*|card\w*|vouchers?|voucherCodes?|qr\w*|members?|memberId|publicId|"
    r"activity|history|lifetime\w*|tier\w*|otp\w*)$",
    re.IGNORECASE,
)
# Argument names allowed although they match (what the kiosk sends, never receives).
ALLOWED_ARGUMENTS = {"phone"}  # requestKioskCode/identifyByPhone take the number typed
FORBIDDEN_TYPE = re.compile(r"^(Receipt|Voucher|Member|Card|Consent|Profile|Session)")


async def test_kiosk_schema_shows_nothing_that_could_leak(kiosk: KioskClient) -> None:
    body = await kiosk.gql(INTROSPECTION)
    assert "errors" not in body, body
    problems = []
    for type_ in body["data"]["__schema"]["types"]:
        name = type_["name"]
        if name.startswith("__"):
            continue
        if FORBIDDEN_TYPE.match(name) and not name.endswith("Error"):
            problems.append(f"type {name}")
        for field in type_["fields"] or []:
            if FORBIDDEN_NAME.search(field["name"]):
                problems.append(f"{name}.{field['name']}")
            for argument in field["args"]:
                if argument["name"] not in ALLOWED_ARGUMENTS and FORBIDDEN_NAME.search(
                    argument["name"]
                ):
                    problems.append(f"{name}.{field['name']}({argument['name']})")
    assert problems == [], problems
    # The only member data a visit has: first name and balance (and the kiosk's results).
    visit = next(t for t in body["data"]["__schema"]["types"] if t["name"] == "Visit")
    assert {f["name"] for f in visit["fields"]} == {
        "session",
        "expiresInSeconds",
        "firstName",
        "balance",
        "isNewMember",
        "checkedInToday",
        "playsLeft",
    }


async def test_a_whole_visit_never_echoes_contact_or_card_data(
    kiosk: KioskClient, member: Member, client: httpx.AsyncClient, frozen_now: list[Any]
) -> None:
    frozen_now[0] += timedelta(seconds=31)  # the member signed up a moment ago
    answers: list[Any] = []
    visit = await kiosk.by_phone(member.phone)
    answers.append(visit)
    session = visit["session"]
    answers.append(await kiosk.check_in(session))
    answers.append(await kiosk.spin(session))
    prizes = await kiosk.prizes()
    answers.append(prizes)
    cheap = min(prizes, key=lambda p: p["pointsPrice"])
    requested = await kiosk.request_exchange(session, cheap["id"])
    answers.append(requested)
    code = kiosk.outbox.last_code(member.phone)
    answers.append(await kiosk.confirm_exchange(session, requested["exchangeId"], code))
    text = json.dumps(answers)
    digits = member.phone.lstrip("+")
    assert digits not in text and digits[-8:] not in text
    assert member.card not in text
    assert code not in text.replace(answers[-1]["pickupCode"], "")
