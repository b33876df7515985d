"""Member messages' tests: the pos fixtures (coalition, tills, members) plus readers of
the channels' JSON-lines files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings, get_settings
from tests.pos.conftest import (  # noqa: F401  (fixtures)
    Member,
    Pos,
    claim,
    coalition,
    give_points,
    happy,
    member,
    neptun,
    receipt,
    sign_up,
    spar,
)

SET_CONSENT = """
mutation($c: MarketingChannel!, $g: Boolean!) {
  setMarketingConsent(channel: $c, granted: $g) { __typename }
}"""


class Sent:
    """What the recording channels wrote: ``sent.lines("sms")``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def lines(self, channel: str, **match: Any) -> list[dict[str, Any]]:
        path = self.folder / f"{channel}.jsonl"
        if not path.exists():
            return []
        rows = [json.loads(line) for line in path.read_text().splitlines() if line]
        return [r for r in rows if all(r.get(k) == v for k, v in match.items())]

    def kinds(self, channel: str, to: str | None = None) -> list[str]:
        return [r["kind"] for r in self.lines(channel) if to is None or r["to"] == to]


@pytest.fixture
def sent(settings: Settings) -> Sent:
    return Sent(settings.messages.outbox_dir)


@pytest.fixture
def messages_cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``happy ...`` commands against the test database, keys and outbox folder."""
    monkeypatch.setenv("HAPPY_ENV", "test")
    monkeypatch.setenv("HAPPY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HAPPY_JWT_SECRET", settings.jwt_secret)
    monkeypatch.setenv("HAPPY_HASH_SECRET", settings.hash_secret)
    monkeypatch.setenv("HAPPY_SMS_OUTBOX", str(settings.sms_outbox))
    monkeypatch.setenv("HAPPY_MESSAGES_OUTBOX_DIR", str(settings.messages.outbox_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
