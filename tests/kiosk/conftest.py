"""Fixtures for the kiosk door: the demo coalition, enrolled kiosks, members."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app import clock
from app.db import Database
from app.kiosks import service as kiosks
from app.runtime import build_runtime
from app.settings import Settings
from auth import kiosk_devices
from tests.helpers import Api, Outbox
from tests.pos.conftest import (  # noqa: F401 (fixtures)
    Member,
    cli_env,
    coalition,
    demo,
    give_points,
    ledger_check_after_module,
    make_key,
    member,
    sign_up,
)

VISIT_FIELDS = "session expiresInSeconds firstName balance isNewMember checkedInToday playsLeft"

ENROL = """
mutation($code: String!, $name: String!) {
  enrolKiosk(code: $code, deviceName: $name) {
    __typename
    ... on KioskEnrolled { deviceToken kiosk { kioskId label storeName storeCode } }
    ... on Error { code message field }
    ... on RateLimitedError { retryAfterSeconds }
  }
}"""

IDENTIFY_CARD = f"""
mutation($scan: String!) {{
  identifyByCard(scan: $scan) {{
    __typename
    ... on Visit {{ {VISIT_FIELDS} }}
    ... on Error {{ code message field }}
  }}
}}"""

REQUEST_CODE = """
mutation($phone: String!) {
  requestKioskCode(phone: $phone) {
    __typename
    ... on KioskCodeSent { expiresAt resendAfterSeconds }
    ... on Error { code message field }
    ... on RateLimitedError { retryAfterSeconds }
  }
}"""

IDENTIFY_PHONE = f"""
mutation($phone: String!, $code: String!) {{
  identifyByPhone(phone: $phone, code: $code) {{
    __typename
    ... on Visit {{ {VISIT_FIELDS} }}
    ... on Error {{ code message field }}
    ... on CodeError {{ attemptsLeft }}
  }}
}}"""

CHECK_IN = """
mutation($session: String!) {
  checkIn(session: $session) {
    __typename
    ... on CheckedIn { pointsAwarded balance }
    ... on Error { code message field }
  }
}"""

SPIN = """
mutation($session: String!) {
  spin(session: $session) {
    __typename
    ... on SpinResult { drawId segmentId kind label pointsWon pickupCode balance playsLeft }
    ... on Error { code message field }
  }
}"""

PRIZES = "query { prizes { id name image pointsPrice inStock } }"
WHEEL = "query { wheel { id label kind } }"

REQUEST_EXCHANGE = """
mutation($session: String!, $prizeId: String!) {
  requestPrizeExchange(session: $session, prizeId: $prizeId) {
    __typename
    ... on PrizeExchangeRequested { exchangeId prizeName pointsPrice expiresAt }
    ... on InsufficientPointsError { pointsNeeded }
    ... on Error { code message field }
  }
}"""

CONFIRM_EXCHANGE = """
mutation($session: String!, $exchangeId: String!, $code: String!) {
  confirmPrizeExchange(session: $session, exchangeId: $exchangeId, code: $code) {
    __typename
    ... on PrizeExchangeConfirmed { exchangeId prizeName pointsSpent pickupCode balance }
    ... on CodeError { attemptsLeft }
    ... on Error { code message field }
  }
}"""

CLAIM = """
mutation($session: String!, $level: Int!) {
  claimReward(session: $session, level: $level) {
    __typename
    ... on KioskRewardClaimed { level pointsSpent voucherCount balance }
    ... on InsufficientPointsError { pointsNeeded }
    ... on Error { code message field }
  }
}"""

END_VISIT = """
mutation($session: String!) { endVisit(session: $session) { ended } }"""

HAND_OVER_KIOSK = """
mutation($code: String!, $pin: String!) {
  handOverPrize(pickupCode: $code, staffPin: $pin) {
    __typename
    ... on PrizeHandedOver { pickupCode prizeName handedOverAt }
    ... on Error { code message field }
  }
}"""

CANCEL_KIOSK = """
mutation($code: String!, $pin: String!) {
  cancelPrizeExchange(pickupCode: $code, staffPin: $pin) {
    __typename
    ... on PrizeExchangeCancelled { pickupCode prizeName pointsRestored }
    ... on Error { code message field }
  }
}"""

HAND_OVER_POS = """
mutation($code: String!) {
  handOverPrize(pickupCode: $code) {
    __typename
    ... on PrizeHandedOver { pickupCode prizeName handedOverAt }
    ... on Error { code message field }
  }
}"""

CANCEL_POS = """
mutation($code: String!) {
  cancelPrizeExchange(pickupCode: $code) {
    __typename
    ... on PrizeExchangeCancelled { pickupCode prizeName pointsRestored }
    ... on Error { code message field }
  }
}"""


class KioskClient:
    """A tablet calling the kiosk door with its device token."""

    def __init__(self, client: httpx.AsyncClient, token: str | None, outbox: Outbox) -> None:
        self.client = client
        self.token = token
        self.outbox = outbox

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, language: str = "en"
    ) -> dict[str, Any]:
        headers = {"Accept-Language": language}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        response = await self.client.post(
            "/kiosk/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def call(
        self, query: str, field: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body = await self.gql(query, variables)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"][field]
        return result

    async def by_card(self, scan: str) -> dict[str, Any]:
        return await self.call(IDENTIFY_CARD, "identifyByCard", {"scan": scan})

    async def by_phone(self, phone: str) -> dict[str, Any]:
        sent = await self.call(REQUEST_CODE, "requestKioskCode", {"phone": phone})
        assert sent["__typename"] == "KioskCodeSent", sent
        code = self.outbox.last_code(phone)
        return await self.call(IDENTIFY_PHONE, "identifyByPhone", {"phone": phone, "code": code})

    async def check_in(self, session: str) -> dict[str, Any]:
        return await self.call(CHECK_IN, "checkIn", {"session": session})

    async def spin(self, session: str) -> dict[str, Any]:
        return await self.call(SPIN, "spin", {"session": session})

    async def prizes(self) -> list[dict[str, Any]]:
        body = await self.gql(PRIZES)
        assert "errors" not in body, body
        result: list[dict[str, Any]] = body["data"]["prizes"]
        return result

    async def request_exchange(self, session: str, prize_id: str) -> dict[str, Any]:
        return await self.call(
            REQUEST_EXCHANGE, "requestPrizeExchange", {"session": session, "prizeId": prize_id}
        )

    async def confirm_exchange(self, session: str, exchange_id: str, code: str) -> dict[str, Any]:
        return await self.call(
            CONFIRM_EXCHANGE,
            "confirmPrizeExchange",
            {"session": session, "exchangeId": exchange_id, "code": code},
        )


async def create_kiosk(db: Database, settings: Settings, store: str) -> str:
    """A new kiosk for ``store``; its enrolment code."""
    runtime = build_runtime(settings)
    async with db.unit_of_work() as session:
        kiosk, _ = await kiosks.create_kiosk(session, store_code=store, label=None, now=clock.now())
        code, _ = await kiosk_devices.create_enrolment_code(
            session, runtime, kiosk_id=kiosk.id, now=clock.now()
        )
    return code


async def enrolled_kiosk(
    db: Database, settings: Settings, client: httpx.AsyncClient, outbox: Outbox, store: str
) -> KioskClient:
    code = await create_kiosk(db, settings, store)
    tablet = KioskClient(client, None, outbox)
    enrolled = await tablet.call(ENROL, "enrolKiosk", {"code": code, "name": f"Tablet {store}"})
    assert enrolled["__typename"] == "KioskEnrolled", enrolled
    tablet.token = enrolled["deviceToken"]
    return tablet


@pytest.fixture
async def kiosk(
    coalition: None,  # noqa: F811
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    outbox: Outbox,
) -> KioskClient:
    """An enrolled kiosk at Spar Kombinat (demo rules: 10 points check-in, 3 plays a day)."""
    return await enrolled_kiosk(db, settings, client, outbox, "SPAR-TIR-01")


@pytest.fixture
def api_client(api: Api) -> Api:
    return api
