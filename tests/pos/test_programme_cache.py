"""Programme data cached per process (app/programme_cache.py): a change in this process is
seen at once, a change by another process (the CLI) within ``STALE_AFTER_SECONDS``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from app import clock, programme_cache
from app.db import Database
from app.partners.earn_rules import rules_for, set_rate
from app.partners.service import get_partner
from app.programme.service import get_programme, update_programme
from app.settings import Settings
from tests.pos.conftest import Member, Pos, receipt


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The cache's clock, moved by the test."""
    now = [1_000.0]
    monkeypatch.setattr(programme_cache, "_clock", lambda: now[0])
    return now


async def _spar_rules(db: Database) -> tuple[int, int]:
    async with db.read_session() as session:
        spar = await get_partner(session, "SPAR")
        rules = await rules_for(session, spar.id, "ALL")
    return rules.rate_points, rules.rate_per_amount


async def test_a_change_in_this_process_is_seen_at_once(
    spar: Pos, member: Member, db: Database, monotonic: list[float]
) -> None:
    before = await spar.submit(receipt("R-PC-1", member.card))
    async with db.unit_of_work() as session:
        await set_rate(
            session, partner_code="SPAR", currency="ALL", points=10, per_amount=10000,
            now=clock.now(),
        )  # fmt: skip
    after = await spar.submit(receipt("R-PC-2", member.card))  # same instant for the cache
    assert after["pointsEarned"] > before["pointsEarned"]
    assert await _spar_rules(db) == (10, 10000)


async def test_a_change_by_another_process_is_seen_within_the_bound(
    spar: Pos, member: Member, db: Database, settings: Settings, monotonic: list[float]
) -> None:
    first = await spar.submit(receipt("R-PC-3", member.card))
    env = {
        **os.environ,
        "HAPPY_ENV": "test",
        "HAPPY_DATABASE_URL": settings.database_url,
        "HAPPY_JWT_SECRET": settings.jwt_secret,
        "HAPPY_HASH_SECRET": settings.hash_secret,
        "HAPPY_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "cli", "earn-rule", "rate", "--partner", "SPAR"]
    command += ["--currency", "ALL", "--points", "10", "--per-amount", "10000"]
    changed = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=120
    )
    assert changed.returncode == 0, changed.stderr
    # Within the bound this process still scores with the copy it has...
    monotonic[0] += programme_cache.STALE_AFTER_SECONDS - 0.1
    stale = await spar.submit(receipt("R-PC-4", member.card))
    assert stale["pointsEarned"] == first["pointsEarned"]
    # ...and once the bound has passed, with the operator's new rate.
    monotonic[0] += 0.2
    fresh = await spar.submit(receipt("R-PC-5", member.card))
    assert fresh["pointsEarned"] > first["pointsEarned"]
    assert await _spar_rules(db) == (10, 10000)


async def test_a_writing_transaction_reads_its_own_change_and_a_rollback_leaves_no_trace(
    coalition: None, db: Database, monotonic: list[float]
) -> None:
    assert await _spar_rules(db) == (1, 10000)  # cached now
    with pytest.raises(RuntimeError):
        async with db.unit_of_work() as session:
            await set_rate(
                session, partner_code="SPAR", currency="ALL", points=7, per_amount=100,
                now=clock.now(),
            )  # fmt: skip
            spar = await get_partner(session, "SPAR")
            assert (await rules_for(session, spar.id, "ALL")).rate_points == 7
            raise RuntimeError("roll back")
    # Other sessions never saw the uncommitted rate, and the rollback left none behind.
    assert await _spar_rules(db) == (1, 10000)


async def test_programme_settings_are_detached_copies_and_follow_updates(
    db: Database, monotonic: list[float]
) -> None:
    async with db.read_session() as session:
        first = await get_programme(session)
    assert first.welcome_bonus_points == 80
    async with db.unit_of_work() as session:
        await update_programme(session, welcome_bonus_points=120)
    async with db.read_session() as session:
        again = await get_programme(session)
        assert again not in session  # a copy: nobody's session holds it
    assert again.welcome_bonus_points == 120
    assert first.welcome_bonus_points == 80  # a copy handed out earlier is not changed
