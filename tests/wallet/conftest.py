"""Wallet integration fixtures: tmp storage and outboxes, one development chain per run."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app import clock
from app.db import Database
from app.events.outbox import OutboxMessage
from app.ledger import service as ledger
from app.ledger.models import EntryKind
from app.members.models import Member
from app.settings import Settings
from tests.helpers import Api

PHONE_A = "+355691110001"
PHONE_B = "+355691110002"

CARD = """
query {
  me {
    id
    balance { available }
    card {
      number qrSvg qrPngUrl appleWalletUrl googleWalletSaveUrl
      dynamicQr { token svg expiresAt }
    }
  }
}"""


@pytest.fixture(scope="session")
def wallet_dev_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wallet-dev")


@pytest.fixture
def settings(settings: Settings, wallet_dev_dir: Path, tmp_path: Path) -> Settings:
    return replace(
        settings,
        wallet_dev_dir=wallet_dev_dir,
        apns_outbox=tmp_path / "apns.jsonl",
        google_outbox=tmp_path / "google-wallet.jsonl",
        public_base_url="https://happy.example",
    )


async def member_card(api: Api, phone: str = PHONE_A) -> tuple[str, dict[str, Any]]:
    """Sign up and return (access token, me)."""
    session = await api.sign_up(phone)
    token: str = session["accessToken"]
    body = await api.gql(CARD, token=token)
    assert "errors" not in body, body
    me: dict[str, Any] = body["data"]["me"]
    return token, me


def local_path(url: str) -> str:
    """The path of a public URL, to request through the ASGI client."""
    assert url.startswith("https://happy.example/"), url
    return url.removeprefix("https://happy.example")


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def pass_json(data: bytes) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(unzip(data)["pass.json"])
    return document


# --- the Apple web service as a device calls it ------------------------------------------

PASS_TYPE = "pass.al.happy.card"
DEVICE = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
PUSH_TOKEN = "ab" * 32


async def download_pass(api: Api, client: httpx.AsyncClient) -> tuple[dict[str, Any], bytes]:
    _, me = await member_card(api)
    response = await client.get(local_path(me["card"]["appleWalletUrl"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.apple.pkpass"
    assert "attachment" in response.headers["content-disposition"]
    return me, response.content


def apple(serial: str, token: str | None) -> dict[str, str]:
    return {"Authorization": f"ApplePass {token}"} if token else {}


async def post_points(db: Database, member_id: int, delta: int) -> None:
    async with db.unit_of_work() as session:
        await ledger.post(
            session,
            member_id=member_id,
            kind=EntryKind.ADJUSTMENT if delta < 0 else EntryKind.EARN,
            delta=delta,
            now=clock.now(),
        )


async def member_id_of(db: Database) -> int:
    async with db.read_session() as session:
        return int(await session.scalar(select(func.max(Member.id))) or 0)


async def outbox(db: Database) -> list[OutboxMessage]:
    """The wallet's outbox rows (other subscribers', such as member messages, left out)."""
    async with db.read_session() as session:
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.subscriber.like("wallet.%"))
            .order_by(OutboxMessage.id)
        )
        return list((await session.scalars(stmt)).all())
