"""Test set-up: one migrated database per run (SQLite file, or PostgreSQL when
``TEST_DATABASE_URL`` is set), a fresh app and client per test, tables emptied and the
ledger checked after every test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

import app.models
from app.base import Base
from app.db import Database, create_database
from app.ledger.service import find_discrepancies
from app.main import create_app
from app.migrations import upgrade
from app.settings import MessageSettings, Settings
from tests.helpers import Api, Outbox

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
# Through PgBouncer in transaction pooling mode (.ci/pgbouncer): no prepared statements kept.
TEST_DATABASE_PGBOUNCER = os.environ.get("HAPPY_DATABASE_PGBOUNCER", "") in {
    "1",
    "true",
    "yes",
    "on",
}
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
requires_postgres = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="real concurrent sessions need PostgreSQL (SQLite serialises every writer); "
    "set TEST_DATABASE_URL as .ci/run does",
)
KEEP_TABLES = {"programmes", "alembic_version"}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = TEST_DATABASE_URL or (
        f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'happy-test.db'}"
    )
    upgrade(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        database_pool_size=15,
        database_pgbouncer=TEST_DATABASE_PGBOUNCER,
        sms_backend="outbox",
        sms_outbox=tmp_path / "sms.jsonl",
        jwt_secret="test-jwt-secret-" + "x" * 32,
        hash_secret="test-hash-secret-" + "y" * 32,
        storage_dir=tmp_path / "files",
        graphiql=False,
        messages=MessageSettings(outbox_dir=tmp_path / "outbox"),  # member messages' files
        outbox_deliver_inline=True,  # what a request delivered is there when it answers
    )


async def _empty_tables(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                await conn.execute(text(f"DELETE FROM {name}"))
        await conn.execute(
            text(
                "UPDATE programmes SET welcome_bonus_points = 80, points_expiry_months = 12, "
                "name = 'Happy', card_prefix = '7001', redemption_confirmation_eur = NULL, "
                "limits_version = ''"
            )
        )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = create_database(settings)
    await _empty_tables(database)
    try:
        yield database
        async with database.read_session() as session:
            found = await find_discrepancies(session)
        assert found == [], f"ledger check failed after the test: {found}"
    finally:
        await database.dispose()


@pytest.fixture
def app(settings: Settings, db: Database) -> Any:
    return create_app(settings, db)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def outbox(settings: Settings) -> Outbox:
    return Outbox(settings.sms_outbox)


@pytest.fixture
def api(client: httpx.AsyncClient, outbox: Outbox) -> Api:
    return Api(client, outbox)


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Control ``app.clock.now``: set ``frozen_now[0]`` to move time."""
    from app import clock

    current = [clock.now()]
    monkeypatch.setattr(clock, "now", lambda: current[0])
    yield current


def with_settings(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **changes)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(endpoint + "/moto-api/", timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
