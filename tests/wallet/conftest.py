"""Wallet integration fixtures: tmp storage and outboxes, one development chain per run."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

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
