"""The operator's `happy` command, run as a separate process like an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from app.db import Database
from app.settings import Settings
from tests.helpers import Api

Happy = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def happy(settings: Settings, db: Database, tmp_path: Path) -> Happy:
    env = {
        **os.environ,
        "HAPPY_ENV": "test",
        "HAPPY_DATABASE_URL": settings.database_url,
        "HAPPY_JWT_SECRET": settings.jwt_secret,
        "HAPPY_HASH_SECRET": settings.hash_secret,
        "HAPPY_SMS_OUTBOX": str(settings.sms_outbox),
        "HAPPY_LOG_LEVEL": "WARNING",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run


def test_demo_is_idempotent_and_stores_list_code_first(happy: Happy) -> None:
    first = happy("demo")
    assert first.returncode == 0, first.stderr
    assert "5 partners" in first.stdout
    listed = happy("store", "list").stdout.splitlines()
    assert happy("demo").returncode == 0
    again = happy("store", "list").stdout.splitlines()
    assert listed == again and len(listed) >= 15
    codes = [line.split("\t")[0] for line in listed]
    assert len(set(codes)) == len(codes)
    assert all(code and " " not in code for code in codes)
    countries = {line.split("\t")[4] for line in listed}
    assert countries == {"AL", "XK", "MK", "ME"}
    partners = {line.split("\t")[1] for line in listed}
    assert {"Neptun", "Spar", "Jumbo", "Smart Point", "Fashion Group Albania"} <= partners


async def test_ledger_check_finds_a_tampered_balance(happy: Happy, api: Api, db: Database) -> None:
    await api.sign_up("+355697770001")
    healthy = happy("ledger", "check")
    assert healthy.returncode == 0, healthy.stderr
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE points_accounts SET available = available + 5"))
    try:
        broken = happy("ledger", "check")
        assert broken.returncode == 1
        assert "cached 85, ledger 80" in broken.stderr
    finally:
        async with db.engine.begin() as conn:
            await conn.execute(text("UPDATE points_accounts SET available = available - 5"))
    assert happy("ledger", "check").returncode == 0


async def test_programme_set_changes_the_welcome_bonus(happy: Happy, api: Api) -> None:
    changed = happy("programme", "set", "--welcome-bonus", "100")
    assert changed.returncode == 0 and "welcome bonus 100" in changed.stdout
    session = await api.sign_up("+355697770002")
    assert session["member"]["balance"]["available"] == 100


def test_schema_check_passes_on_the_committed_snapshot(happy: Happy) -> None:
    result = happy("schema", "check")
    assert result.returncode == 0, result.stdout


def test_production_without_secrets_refuses_to_start(happy: Happy, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--port", "1"],
        env={**os.environ, "HAPPY_ENV": "production", "HAPPY_DATABASE_URL": "sqlite:///x"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "refusing to start in production" in result.stderr
