"""The scheduled jobs of ``happy worker``, and the guard that runs each on one worker at
a time.

Every job has a row in ``scheduled_jobs``. A worker takes a due job with one guarded
``UPDATE ... WHERE next_run_at <= now AND (lease_until IS NULL OR lease_until < now)``:
of several workers exactly one changes the row (PostgreSQL re-checks the condition after
the row lock), so a job never runs twice at once; a worker killed mid-job leaves a lease
that ends, and the next worker runs the job again, which is safe: every job is keyed
(ledger idempotency keys, message keys), so a second run does nothing twice.

The times are cron expressions (croniter), in the programme's time zone; defaults below,
overridden by ``HAPPY_JOB_SCHEDULES`` (``name=cron;name=cron``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlalchemy import Table, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.db import insert_ignoring_conflicts
from app.ledger import expiry
from app.ledger.models import PointsLot
from app.members.models import Member, MemberStatus
from app.messages import service
from app.messages.campaigns import CampaignRunner
from app.messages.lifecycle import local_date
from app.messages.models import ScheduledJob
from app.programme.service import get_programme
from app.rewards.models import Voucher, VoucherStatus
from app.settings import SettingsError

if TYPE_CHECKING:
    from app.db import Database

log = logging.getLogger(__name__)

JOB_LEASE = timedelta(minutes=30)
RETRY_FAILED_JOB = timedelta(minutes=5)
VOUCHER_REMINDER_DAYS = 7
POINTS_REMINDER_DAYS = 30

DEFAULT_SCHEDULES = {
    "points_expiry": "30 2 * * *",  # expire lots past their date, nightly
    "campaigns": "*/15 * * * *",  # scheduled campaigns and the triggers (birthday, ...)
    "voucher_reminders": "0 10 * * *",  # "a voucher expires in 7 days"
    "points_reminders": "0 10 * * 1",  # "N points expire on D", weekly
}


def schedules(overrides: str) -> dict[str, str]:
    """The job times: defaults with ``HAPPY_JOB_SCHEDULES`` applied (checked)."""
    found = dict(DEFAULT_SCHEDULES)
    for part in overrides.split(";"):
        if not part.strip():
            continue
        name, _, cron = part.partition("=")
        name, cron = name.strip(), cron.strip()
        if name not in DEFAULT_SCHEDULES or not croniter.is_valid(cron):
            raise SettingsError(
                f"HAPPY_JOB_SCHEDULES: {part.strip()!r} is not name=cron with a name among "
                + ", ".join(DEFAULT_SCHEDULES)
            )
        found[name] = cron
    return found


def next_time(cron: str, after: datetime, zone: str) -> datetime:
    local = after.astimezone(ZoneInfo(zone))
    following: datetime = croniter(cron, local).get_next(datetime)
    return following.astimezone(after.tzinfo)


JobBody = Callable[[datetime], Awaitable[str]]


@dataclass(frozen=True)
class Job:
    name: str
    cron: str
    body: JobBody


class Jobs:
    """The worker's jobs over ``db`` (the bodies are also run by ``happy worker --job``)."""

    def __init__(self, db: Database, composer: service.Composer) -> None:
        self.db = db
        self.composer = composer
        times = schedules(composer.settings.messages.job_schedules)
        bodies: dict[str, JobBody] = {
            "points_expiry": self.points_expiry,
            "campaigns": self.campaigns,
            "voucher_reminders": self.voucher_reminders,
            "points_reminders": self.points_reminders,
        }
        self.jobs = {name: Job(name, times[name], body) for name, body in bodies.items()}

    # --- the guard ---

    async def run_due(self, now: datetime) -> dict[str, str]:
        """Run every job that is due and not running elsewhere; what each said."""
        results = {}
        async with self.db.read_session() as session:
            zone = (await get_programme(session)).timezone
        for job in self.jobs.values():
            if await self._claim(job, now, zone):
                results[job.name] = await self._run(job, now, zone)
        return results

    async def _claim(self, job: Job, now: datetime, zone: str) -> bool:
        table = cast(Table, ScheduledJob.__table__)
        async with self.db.unit_of_work() as session:
            await session.execute(
                insert_ignoring_conflicts(
                    session,
                    table,
                    {"name": job.name, "next_run_at": next_time(job.cron, now, zone)},
                    ("name",),
                )
            )
            claimed = await session.execute(
                update(table)
                .where(
                    table.c.name == job.name,
                    table.c.next_run_at <= now,
                    or_(table.c.lease_until.is_(None), table.c.lease_until < now),
                )
                .values(lease_until=now + JOB_LEASE, last_started_at=now)
                .returning(table.c.name)
            )
            return claimed.scalar_one_or_none() is not None

    async def _keep_lease(self, name: str, lease: dict[str, datetime]) -> None:
        """Renew the job's lease while it runs (a long job is never taken by a second
        worker); stop if the lease is no longer this run's."""
        table = cast(Table, ScheduledJob.__table__)
        while True:
            await asyncio.sleep(JOB_LEASE.total_seconds() / 3)
            renewed = clock.now() + JOB_LEASE
            async with self.db.unit_of_work() as session:
                result = await session.execute(
                    update(table)
                    .where(table.c.name == name, table.c.lease_until == lease["until"])
                    .values(lease_until=renewed)
                )
            if int(getattr(result, "rowcount", 0) or 0) != 1:
                return
            lease["until"] = renewed

    async def _run(self, job: Job, now: datetime, zone: str) -> str:
        lease = {"until": now + JOB_LEASE}  # what _claim wrote
        keeper = asyncio.create_task(self._keep_lease(job.name, lease))
        try:
            result = await job.body(now)
            next_run = next_time(job.cron, now, zone)
        except Exception as exc:
            log.exception("job %s failed", job.name)
            result = f"failed: {type(exc).__name__}: {exc}"[:300]
            next_run = now + RETRY_FAILED_JOB
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        async with self.db.unit_of_work() as session:
            # Only this run's lease is released (another worker's is not ours to end).
            await session.execute(
                update(ScheduledJob)
                .where(ScheduledJob.name == job.name, ScheduledJob.lease_until == lease["until"])
                .values(
                    lease_until=None,
                    next_run_at=next_run,
                    last_finished_at=now,
                    last_result=result[:300],
                )
            )
        return result

    # --- the jobs ---

    async def points_expiry(self, now: datetime) -> str:
        async with self.db.read_session() as session:
            member_ids = await expiry.members_with_expired_points(session, now)
        total = 0
        for member_id in member_ids:
            async with self.db.unit_of_work() as session:
                total += await expiry.expire_member_points(session, member_id, now)
        return f"{total} points expired from {len(member_ids)} member(s)"

    async def campaigns(self, now: datetime) -> str:
        report = await CampaignRunner(self.db, self.composer).run_due(now)
        return f"{report.queued} message(s) queued, {report.bonuses} bonus(es)"

    async def voucher_reminders(self, now: datetime) -> str:
        """Unused vouchers expiring within 7 days: one reminder per member and expiry day
        (a claim's vouchers expire together: one message, not six)."""
        async with self.db.read_session() as session:
            vouchers = list(
                await session.scalars(
                    select(Voucher)
                    .where(
                        Voucher.status == VoucherStatus.ISSUED,
                        Voucher.expires_at > now,
                        Voucher.expires_at <= now + timedelta(days=VOUCHER_REMINDER_DAYS),
                    )
                    .order_by(Voucher.member_id, Voucher.expires_at)
                )
            )
        by_member: dict[int, list[Voucher]] = {}
        for voucher in vouchers:
            by_member.setdefault(voucher.member_id, []).append(voucher)
        queued = 0
        for member_id, theirs in by_member.items():
            async with self.db.unit_of_work() as session:
                queued += await self._voucher_reminders(session, member_id, theirs, now)
        return f"{queued} voucher reminder(s) queued"

    async def _voucher_reminders(
        self, session: AsyncSession, member_id: int, vouchers: list[Voucher], now: datetime
    ) -> int:
        member = await session.get(Member, member_id)
        if member is None or member.status != MemberStatus.ACTIVE:
            return 0
        zone = (await get_programme(session)).timezone
        by_day: dict[str, int] = {}
        for voucher in vouchers:
            day = local_date(voucher.expires_at, member.phone_e164, zone)
            by_day[day] = by_day.get(day, 0) + 1
        queued = 0
        for day, count in by_day.items():
            message = await service.compose(
                session,
                self.composer,
                member_id=member.id,
                kind="voucher_expiring",
                event_key=f"vouchers:{day}",
                params={"count": count, "expires_on": day},
                now=now,
            )
            queued += 1 if message is not None else 0
        return queued

    async def points_reminders(self, now: datetime) -> str:
        """Members with points expiring within 30 days: one reminder per expiry date."""
        horizon = now + timedelta(days=POINTS_REMINDER_DAYS)
        async with self.db.read_session() as session:
            rows = (
                await session.execute(
                    select(PointsLot.member_id)
                    .where(
                        PointsLot.remaining > 0,
                        PointsLot.expires_at > now,
                        PointsLot.expires_at <= horizon,
                    )
                    .group_by(PointsLot.member_id)
                )
            ).all()
            zone = (await get_programme(session)).timezone
        queued = 0
        for (member_id,) in rows:
            async with self.db.unit_of_work() as session:
                soon = (await expiry.expiring_soon(session, [member_id], now, zone))[member_id]
                member = await session.get(Member, member_id)
                if soon.points <= 0 or soon.date is None or member is None:
                    continue
                day = soon.date.strftime("%d.%m.%Y")
                message = await service.compose(
                    session,
                    self.composer,
                    member_id=member_id,
                    kind="points_expiring",
                    event_key=f"points:{soon.date.isoformat()}",
                    params={"points": soon.points, "expires_on": day},
                    now=now,
                )
                queued += 1 if message is not None else 0
        return f"{queued} points reminder(s) queued"
