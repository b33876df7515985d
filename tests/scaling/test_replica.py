"""Lag-tolerant reads go to HAPPY_DATABASE_REPLICA_URL when it is set; writes, balances and
everything read right after a write stay on the primary (docs/scaling.md).

The "replica" is a copy of the test database taken at one moment (SQLite's backup API), so
it lags behind the primary exactly like a streaming replica that has not caught up, and a
change made only there shows which database answered."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.db import Database, create_database
from app.main import create_app
from app.settings import Settings, SettingsError
from tests.conftest import ON_POSTGRES, with_settings
from tests.helpers import Api, Outbox
from tests.pos.conftest import Member, Pos, receipt

pytestmark = pytest.mark.skipif(
    ON_POSTGRES,
    reason="the replica here is a copy of the SQLite test file (routing does not depend on "
    "the dialect; the PostgreSQL suite covers the primary path)",
)

HISTORY = """
query { me {
  balance { available }
  receipts(first: 10) { edges { node { receiptId } } }
} }"""
COALITION = "query { coalition { partners { code name } } }"


def _sqlite_path(url: str) -> str:
    return url.split("///", 1)[1]


def _copy(primary_url: str, replica_path: Path) -> str:
    source = sqlite3.connect(_sqlite_path(primary_url))
    target = sqlite3.connect(replica_path)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return f"sqlite+aiosqlite:///{replica_path}"


@pytest.fixture
async def replicated(
    settings: Settings, db: Database, tmp_path: Path, spar: Pos, member: Member
) -> AsyncIterator[tuple[Api, Database, str]]:
    """An app whose replica is a copy of the primary taken now (after one receipt)."""
    assert (await spar.submit(receipt("BEFORE-COPY", member.card)))["__typename"] == (
        "ReceiptAccepted"
    )
    replica_url = _copy(settings.database_url, tmp_path / "replica.db")
    replica_settings = with_settings(settings, database_replica_url=replica_url)
    database = create_database(replica_settings)
    app = create_app(replica_settings, database)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Api(c, Outbox(settings.sms_outbox)), database, replica_url
    finally:
        await database.dispose()


async def _gql(api: Api, query: str, token: str | None = None) -> dict[str, Any]:
    body = await api.gql(query, token=token)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_receipt_history_comes_from_the_replica_and_the_balance_from_the_primary(
    replicated: tuple[Api, Database, str], spar: Pos, member: Member
) -> None:
    api, _, _ = replicated
    # A receipt the replica has not received yet (replication lag).
    assert (await spar.submit(receipt("AFTER-COPY", member.card)))["__typename"] == (
        "ReceiptAccepted"
    )
    me = (await _gql(api, HISTORY, member.token))["me"]
    assert [e["node"]["receiptId"] for e in me["receipts"]["edges"]] == ["BEFORE-COPY"]
    assert me["balance"]["available"] == 80 + 11 + 11  # the primary: both receipts

    # The same app without a replica reads history from the primary.
    plain = (await _gql(Api(spar.client, api.outbox), HISTORY, member.token))["me"]
    assert [e["node"]["receiptId"] for e in plain["receipts"]["edges"]] == [
        "AFTER-COPY",
        "BEFORE-COPY",
    ]


async def test_the_coalition_directory_comes_from_the_replica(
    replicated: tuple[Api, Database, str], spar: Pos
) -> None:
    api, _, replica_url = replicated
    replica = sqlite3.connect(_sqlite_path(replica_url))
    try:
        replica.execute("UPDATE partners SET name = 'Spar (replica)' WHERE code = 'SPAR'")
        replica.execute("UPDATE directory_version SET version = version + 1")
        replica.commit()
    finally:
        replica.close()
    names = {p["code"]: p["name"] for p in (await _gql(api, COALITION))["coalition"]["partners"]}
    assert names["SPAR"] == "Spar (replica)"
    primary = await _gql(Api(spar.client, api.outbox), COALITION)
    assert {p["code"]: p["name"] for p in primary["coalition"]["partners"]}["SPAR"] != (
        "Spar (replica)"
    )


async def test_writes_go_to_the_primary_only(
    replicated: tuple[Api, Database, str], settings: Settings, member: Member
) -> None:
    api, database, replica_url = replicated
    sent = await api.request_otp("+355691110000")  # a write through the replicated app
    assert sent["__typename"] == "OtpRequested"
    replica = sqlite3.connect(_sqlite_path(replica_url))
    primary = sqlite3.connect(_sqlite_path(settings.database_url))
    try:
        count = "SELECT count(*) FROM otp_challenges"
        assert replica.execute(count).fetchone()[0] < primary.execute(count).fetchone()[0]
    finally:
        replica.close()
        primary.close()
    async with database.replica_session() as session:
        assert str(session.get_bind().url) == replica_url
    async with database.read_session() as session:
        assert str(session.get_bind().url) == settings.database_url


async def test_without_a_replica_url_replica_sessions_are_the_primary(db: Database) -> None:
    async with db.replica_session() as session:
        assert session.get_bind().url == db.engine.url


def test_a_replica_of_another_kind_is_refused(settings: Settings) -> None:
    bad = with_settings(
        settings, database_replica_url="postgresql+asyncpg://postgres@127.0.0.1:5432/x"
    )
    with pytest.raises(SettingsError, match="HAPPY_DATABASE_REPLICA_URL"):
        bad.validate()
