"""Fixtures for the USSD door: a gateway speaking the Africa's Talking convention."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app import clock
from app.db import Database
from app.ledger import service as ledger
from app.ledger.models import EntryKind
from app.members.models import Member
from app.settings import Settings
from tests.conftest import with_settings
from tests.pos.conftest import cli_env  # noqa: F401 - the `happy` command in these tests
from web.ussd import gsm

TOKEN = "ussd-test-gateway-token-" + "z" * 24
PHONE = "+355691112233"
_SESSIONS = itertools.count(1)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_settings(settings, ussd_gateway_token=TOKEN)


def screen_fits(reply: str) -> None:
    """Fails unless ``reply`` is ``CON``/``END`` plus a screen the gateway would not cut."""
    assert reply.startswith(("CON ", "END ")), reply
    body = reply[4:]
    assert gsm.is_gsm(body), f"not GSM 7-bit: {body!r}"
    used, limit = gsm.units(body)
    assert used <= limit, f"{used} > {limit}: {body!r}"


@dataclass
class Handset:
    """A phone dialling the programme's code through an aggregator."""

    client: httpx.AsyncClient
    phone: str = PHONE
    token: str | None = TOKEN
    session_id: str = ""
    inputs: list[str] = field(default_factory=list)
    screens: list[str] = field(default_factory=list)

    async def post(self, text: str, **extra: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data = {
            "sessionId": self.session_id,
            "serviceCode": "*505#",
            "phoneNumber": self.phone,
            "networkCode": "27601",
            "text": text,
        }
        data.update(extra)
        return await self.client.post("/ussd/callback", data=data, headers=headers)

    async def dial(self) -> str:
        self.session_id = f"ATUid_{next(_SESSIONS):06d}_{self.phone[-4:]}"
        self.inputs = []
        return await self._send()

    async def press(self, *keys: str) -> str:
        reply = ""
        for key in keys:
            self.inputs.append(key)
            reply = await self._send()
        return reply

    async def _send(self) -> str:
        response = await self.post("*".join(self.inputs))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        screen_fits(response.text)
        self.screens.append(response.text)
        return response.text

    async def walk(self, *keys: str) -> str:
        """A new dialogue, then ``keys``; the last screen."""
        reply = await self.dial()
        if keys:
            reply = await self.press(*keys)
        return reply


@pytest.fixture
def handset(client: httpx.AsyncClient) -> Handset:
    return Handset(client)


async def member_id_of(db: Database, phone: str) -> int:
    async with db.read_session() as session:
        found = await session.execute(select(Member.id).where(Member.phone_e164 == phone))
        member_id: int = found.scalar_one()
    return member_id


async def top_up(db: Database, member_id: int, points: int) -> None:
    async with db.unit_of_work() as session:
        await ledger.post(
            session,
            member_id=member_id,
            kind=EntryKind.ADJUSTMENT,
            delta=points,
            now=clock.now(),
            description="test top-up",
        )


async def registered(handset: Handset, db: Database, points: int = 0) -> int:
    """Register ``handset``'s number over USSD; the member's id (with ``points`` more)."""
    reply = await handset.walk("1")
    assert reply.startswith("CON "), reply
    member_id = await member_id_of(db, handset.phone)
    if points:
        await top_up(db, member_id, points)
    return member_id
