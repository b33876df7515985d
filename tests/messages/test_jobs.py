"""The worker's jobs through ``happy worker``: reward within reach once per level per
month, dormant members once per dormant stretch, voucher and points reminders once."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from app import clock
from app.db import Database
from app.settings import Settings
from tests.helpers import Api
from tests.messages.conftest import SET_CONSENT, Member, Sent, claim, give_points, happy

pytestmark = pytest.mark.usefixtures("messages_cli_env", "coalition")


def at_noon(moment: datetime) -> datetime:
    return moment.replace(hour=11, minute=0, second=0, microsecond=0)  # 12:00/13:00 Tirana


async def test_reward_within_reach_once_per_level_per_month(
    api: Api, db: Database, member: Member, sent: Sent, tmp_path: Path, frozen_now: list[datetime]
) -> None:
    await api.gql(SET_CONSENT, {"c": "SMS", "g": True}, token=member.token)
    await give_points(db, member.id, 4_720, clock.now())  # 80 + 4,720 = 4,800: 200 to go
    path = tmp_path / "reach.json"
    path.write_text(
        json.dumps(
            {
                "code": "reach",
                "trigger": "reward_within_reach",
                "channel": "sms",
                "template": "reward_within_reach",
                "within_points": 300,
            }
        )
    )
    assert await happy(["campaign", "create", str(path)]) == 0
    frozen_now[0] = at_noon(clock.now())
    for _ in range(2):
        assert await happy(["worker", "--once", "--run", "campaigns"]) == 0
    (nudge,) = sent.lines("sms", kind="reward_within_reach")
    assert "200 pikë" in nudge["text"] and "6 kupona" in nudge["text"]
    frozen_now[0] += timedelta(days=32)  # next month: once more
    assert await happy(["worker", "--once", "--run", "campaigns"]) == 0
    assert len(sent.lines("sms", kind="reward_within_reach")) == 2


async def test_dormant_members_once_per_stretch(
    api: Api, db: Database, member: Member, sent: Sent, tmp_path: Path, frozen_now: list[datetime]
) -> None:
    await api.gql(SET_CONSENT, {"c": "SMS", "g": True}, token=member.token)
    path = tmp_path / "dormant.json"
    path.write_text(
        json.dumps(
            {
                "code": "dormant",
                "trigger": "dormant",
                "channel": "sms",
                "template": "we_miss_you",
                "dormant_days": 30,
            }
        )
    )
    assert await happy(["campaign", "create", str(path)]) == 0
    frozen_now[0] = at_noon(clock.now() + timedelta(days=10))
    assert await happy(["worker", "--once", "--run", "campaigns"]) == 0
    assert sent.lines("sms", kind="we_miss_you") == []  # a new member is not dormant
    frozen_now[0] += timedelta(days=40)
    for _ in range(2):
        assert await happy(["worker", "--once", "--run", "campaigns"]) == 0
    (missed,) = sent.lines("sms", kind="we_miss_you")
    assert "80 pikë" in missed["text"]


async def test_voucher_reminder(
    api: Api, db: Database, member: Member, sent: Sent, frozen_now: list[datetime]
) -> None:
    await give_points(db, member.id, 5_000, clock.now())
    assert (await claim(api, member, 1))["__typename"] == "RewardClaimed"
    frozen_now[0] = at_noon(clock.now() + timedelta(days=85))  # vouchers valid 90 days
    for _ in range(2):
        assert await happy(["worker", "--once", "--run", "voucher_reminders"]) == 0
    (reminder,) = sent.lines("sms", kind="voucher_expiring")  # six vouchers, one message
    assert "(6)" in reminder["text"]


async def test_points_reminder(member: Member, sent: Sent, frozen_now: list[datetime]) -> None:
    frozen_now[0] = at_noon(clock.now() + timedelta(days=350))  # the welcome lot: 12 months
    for _ in range(2):
        assert await happy(["worker", "--once", "--run", "points_reminders"]) == 0
    (points,) = sent.lines("sms", kind="points_expiring")
    assert points["text"].startswith("80 pikë skadojnë")


async def test_a_job_runs_once_while_leased_and_releases_only_its_own_lease(
    db: Database, settings: Settings
) -> None:
    """Two workers: the one holding a job's lease runs it; the other finds nothing due;
    after the run the lease is released and the next run is scheduled."""
    from sqlalchemy import select

    from app.keys import load_keys
    from app.messages.jobs import Jobs
    from app.messages.lifecycle import build_dispatcher
    from app.messages.models import ScheduledJob

    first = Jobs(db, build_dispatcher(db, settings, load_keys(settings)).composer)
    second = Jobs(db, build_dispatcher(db, settings, load_keys(settings)).composer)
    ran: list[str] = []

    async def body(now: datetime) -> str:
        ran.append("ran")
        # While it runs, the other worker finds the job leased.
        assert "points_expiry" not in await second.run_due(now)
        return "ok"

    first.jobs = {"points_expiry": replace(first.jobs["points_expiry"], body=body)}
    second.jobs = {"points_expiry": second.jobs["points_expiry"]}
    now = clock.now() + timedelta(days=400)  # far past any first schedule
    # The first run_due only schedules (inserts) the job row when it did not exist.
    await first.run_due(clock.now())
    assert (await first.run_due(now)).get("points_expiry") == "ok"
    assert ran == ["ran"]
    async with db.read_session() as session:
        row = await session.scalar(select(ScheduledJob).where(ScheduledJob.name == "points_expiry"))
    assert row is not None and row.lease_until is None and row.next_run_at > now
