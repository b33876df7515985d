"""Fixtures for the partner POS door: the demo coalition, store keys, a signed-up member."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

import cli
from app import clock
from app.db import Database
from app.demo import load_demo
from app.ledger import service as ledger
from app.ledger.models import EntryKind
from app.runtime import build_runtime
from app.settings import Settings, get_settings
from auth import api_keys
from tests.helpers import Api

SUBMIT = """
mutation($input: ReceiptInput!) {
  submitReceipt(input: $input) {
    __typename
    ... on ReceiptAccepted {
      receiptId pointsEarned balance processedAt
      breakdown { kind rule multiplierPercent amount points }
    }
    ... on Error { code message field }
  }
}"""

REFUND = """
mutation($input: RefundInput!) {
  refundReceipt(input: $input) {
    __typename
    ... on ReceiptRefunded {
      receiptId refundId refundedAmount pointsReversed pointsUncollected balance
    }
    ... on Error { code message field }
  }
}"""

IMPORT = """
mutation($lines: String!) {
  importReceipts(jsonLines: $lines) {
    __typename
    ... on BatchReport {
      accepted duplicates rejected
      lines { line receiptId status reason pointsEarned }
    }
    ... on Error { code message field }
  }
}"""

VOUCHER_FIELDS = "code status expiresAt value { amount currency }"

VALIDATE = f"""
mutation($code: String!) {{
  validateVoucher(code: $code) {{
    __typename
    ... on VoucherValid {{ voucher {{ {VOUCHER_FIELDS} }} }}
    ... on Error {{ code message field }}
    ... on RateLimitedError {{ retryAfterSeconds }}
  }}
}}"""

REDEEM = f"""
mutation($code: String!, $receiptId: String!) {{
  redeemVoucher(code: $code, receiptId: $receiptId) {{
    __typename
    ... on VoucherRedeemed {{ receiptId redeemedAt voucher {{ {VOUCHER_FIELDS} }} }}
    ... on Error {{ code message field }}
  }}
}}"""

VOID = f"""
mutation($code: String!, $receiptId: String!) {{
  voidVoucherRedemption(code: $code, receiptId: $receiptId) {{
    __typename
    ... on VoucherRedemptionVoided {{ voidedAt voucher {{ {VOUCHER_FIELDS} }} }}
    ... on Error {{ code message field }}
  }}
}}"""


class Pos:
    """A till calling the partner door with its store's key."""

    def __init__(self, client: httpx.AsyncClient, key: str | None) -> None:
        self.client = client
        self.key = key

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        response = await self.client.post(
            "/partner/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
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

    async def submit(self, receipt: dict[str, Any]) -> dict[str, Any]:
        return await self.call(SUBMIT, "submitReceipt", {"input": receipt})

    async def refund(self, **input: Any) -> dict[str, Any]:
        return await self.call(REFUND, "refundReceipt", {"input": input})

    async def redeem(self, code: str, receipt_id: str) -> dict[str, Any]:
        return await self.call(REDEEM, "redeemVoucher", {"code": code, "receiptId": receipt_id})

    async def void(self, code: str, receipt_id: str) -> dict[str, Any]:
        return await self.call(
            VOID, "voidVoucherRedemption", {"code": code, "receiptId": receipt_id}
        )


@dataclass
class Member:
    token: str
    card: str
    phone: str
    id: int


async def demo(db: Database) -> None:
    async with db.unit_of_work() as session:
        await load_demo(session, clock.now())


async def make_key(db: Database, settings: Settings, store: str) -> str:
    keys = build_runtime(settings).keys
    async with db.unit_of_work() as session:
        issued = await api_keys.create_key(
            session, keys, store_code=store, label=None, now=clock.now()
        )
    return issued.key


async def sign_up(api: Api, db: Database, phone: str = "+355691234567") -> Member:
    session = await api.sign_up(phone)
    me = await api.me(session["accessToken"])
    async with db.read_session() as s:
        from sqlalchemy import select

        from app.members.models import Member as MemberModel

        member_id = (
            await s.execute(select(MemberModel.id).where(MemberModel.phone_e164 == me["phone"]))
        ).scalar_one()
    return Member(session["accessToken"], me["card"]["number"], me["phone"], member_id)


async def give_points(db: Database, member_id: int, points: int, now: datetime) -> None:
    async with db.unit_of_work() as session:
        await ledger.post(
            session,
            member_id=member_id,
            kind=EntryKind.ADJUSTMENT,
            delta=points,
            now=now,
            description="test top-up",
        )


@pytest.fixture
async def coalition(db: Database) -> None:
    await demo(db)


@pytest.fixture
async def spar(coalition: None, db: Database, settings: Settings, client: httpx.AsyncClient) -> Pos:
    """A till at Spar Kombinat, Tirana (ALL)."""
    return Pos(client, await make_key(db, settings, "SPAR-TIR-01"))


@pytest.fixture
async def neptun(
    coalition: None, db: Database, settings: Settings, client: httpx.AsyncClient
) -> Pos:
    """A till at Neptun Prishtina (EUR): another partner."""
    return Pos(client, await make_key(db, settings, "NEP-PRN-01"))


@pytest.fixture
async def member(api: Api, db: Database) -> Member:
    return await sign_up(api, db)


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``happy ...`` commands against the test database and keys."""
    monkeypatch.setenv("HAPPY_ENV", "test")
    monkeypatch.setenv("HAPPY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HAPPY_JWT_SECRET", settings.jwt_secret)
    monkeypatch.setenv("HAPPY_HASH_SECRET", settings.hash_secret)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def receipt(
    receipt_id: str,
    card: str | None,
    *,
    lines: list[dict[str, Any]] | None = None,
    currency: str = "ALL",
    issued_at: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A Spar receipt: 3 x own-brand milk (double points), cigarettes (excluded), bread."""
    lines = lines or [
        {
            "sku": "SP-MILK-1L",
            "name": "Qumësht Spar 1L",
            "brand": "Spar",
            "category": "dairy",
            "quantity": "3",
            "unitPrice": 15000,
            "amount": 45000,
        },
        {
            "sku": "TOB-20",
            "name": "Cigare",
            "brand": "Marlboro",
            "category": "Tobacco",
            "quantity": "1",
            "unitPrice": 50000,
            "amount": 50000,
        },
        {
            "sku": "BREAD-500",
            "name": "Bukë",
            "brand": None,
            "category": "bakery",
            "quantity": "1",
            "unitPrice": 23000,
            "amount": 23000,
        },
    ]
    body: dict[str, Any] = {
        "receiptId": receipt_id,
        "issuedAt": issued_at or clock.now().isoformat(),
        "currency": currency,
        "total": sum(line["amount"] for line in lines),
        "cashierId": "C-07",
        "lines": lines,
    }
    if card is not None:
        body["cardNumber"] = card
    body.update(extra)
    return body


@pytest.fixture(scope="module", autouse=True)
def ledger_check_after_module(database_url: str) -> Iterator[None]:
    """After every test module: ``happy ledger check`` holds (balances == ledger == lots)."""
    yield
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HAPPY_ENV", "test")
        patch.setenv("HAPPY_DATABASE_URL", database_url)
        get_settings.cache_clear()
        try:
            assert cli.main(["ledger", "check"]) == 0
        finally:
            get_settings.cache_clear()


CLAIM = """
mutation($level: Int!, $requestId: String) {
  claimReward(level: $level, requestId: $requestId) {
    __typename
    ... on RewardClaimed { level pointsSpent balance vouchers { code status value { amount currency } expiresAt qrSvg } }
    ... on InsufficientPointsError { pointsNeeded }
    ... on Error { code message }
  }
}"""


async def claim(
    api: Api, member: Member, level: int, request_id: str | None = None
) -> dict[str, Any]:
    body = await api.gql(CLAIM, {"level": level, "requestId": request_id}, token=member.token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["claimReward"]
    return result


async def happy(argv: list[str]) -> int:
    """Run a ``happy`` command as the operator would (its own event loop, in a thread)."""
    return await asyncio.to_thread(cli.main, argv)
