"""review15: the redemption confirmation threshold (a security control, issue 14) is read
from the per-process programme cache (app/rewards/redemption_rules.py value_at_redemption
-> get_programme). After an operator lowers it with the CLI (another process), every app
worker keeps redeeming vouchers above the new threshold WITHOUT the member's SMS code for
up to STALE_AFTER_SECONDS. docs/decisions.md (hotpath) claims redeeming reads "from the
database, not from the cache, so money never moves on a stale price"."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from app import programme_cache
from app.db import Database
from app.settings import Settings
from tests.helpers import Api
from tests.pos.conftest import Member, Pos
from tests.pos.test_pos_redemption_confirmation import redeem, small_voucher


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1_000.0]
    monkeypatch.setattr(programme_cache, "_clock", lambda: now[0])
    return now


async def test_the_cli_threshold_change_works_past_the_bound(
    spar: Pos, member: Member, api: Api, db: Database, settings: Settings, monotonic: list[float]
) -> None:
    programme_cache.forget_all()  # copies cached during set-up carry the real clock's time
    first = await small_voucher(api, member, db)
    third = await small_voucher(api, member, db)
    # The first redemption (4.00 EUR, under the demo's 9.60 threshold) primes the cache.
    assert (await redeem(spar, first, "S-R15-1"))["__typename"] == "VoucherRedeemed"
    env = {
        **os.environ,
        "HAPPY_ENV": "test",
        "HAPPY_DATABASE_URL": settings.database_url,
        "HAPPY_JWT_SECRET": settings.jwt_secret,
        "HAPPY_HASH_SECRET": settings.hash_secret,
        "HAPPY_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "cli", "programme", "set", "--redemption-threshold", "1"]
    done = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    # Past the staleness bound the new threshold holds (the CLI change itself is right)...
    monotonic[0] += programme_cache.STALE_AFTER_SECONDS + 0.1
    later = await redeem(spar, third, "S-R15-3")
    assert later["__typename"] == "ConfirmationRequired", later
    # ...but one second after the change (re-prime: a fresh copy, then lower it again).


async def test_within_the_bound_a_voucher_above_the_new_threshold_skips_the_sms_code(
    spar: Pos, member: Member, api: Api, db: Database, settings: Settings, monotonic: list[float]
) -> None:
    programme_cache.forget_all()  # copies cached during set-up carry the real clock's time
    first = await small_voucher(api, member, db)
    second = await small_voucher(api, member, db)
    assert (await redeem(spar, first, "S-R15-4"))["__typename"] == "VoucherRedeemed"
    env = {
        **os.environ,
        "HAPPY_ENV": "test",
        "HAPPY_DATABASE_URL": settings.database_url,
        "HAPPY_JWT_SECRET": settings.jwt_secret,
        "HAPPY_HASH_SECRET": settings.hash_secret,
        "HAPPY_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "cli", "programme", "set", "--redemption-threshold", "1"]
    done = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    monotonic[0] += 1.0  # one second after the operator lowered it to 1.00 EUR
    answer = await redeem(spar, second, "S-R15-5")
    assert answer["__typename"] == "ConfirmationRequired", answer  # fails: VoucherRedeemed
