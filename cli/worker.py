"""``happy worker``: the one process that runs everything on a schedule.

Each round it delivers the due outbox rows (wallet pushes, Google updates, the member
messages' subscribers), sends the due member messages, and runs the scheduled jobs that
are due (points expiry, campaigns and their triggers, voucher and points reminders;
``app.messages.jobs``). Several workers may run against PostgreSQL: messages are claimed
with ``FOR UPDATE SKIP LOCKED``, outbox rows under an advisory lock, jobs by a guarded
update. SIGTERM (or Ctrl-C) lets the current step finish, then the worker exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import threading
from typing import Any

from app import clock
from app.db import Database
from app.settings import Settings
from cli.context import run
from cli.errors import UsageError

log = logging.getLogger("happy.worker")


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from app.events.delivery import Delivery
    from app.keys import load_keys
    from app.log import configure_logging
    from app.messages.jobs import DEFAULT_SCHEDULES, Jobs
    from app.messages.lifecycle import build_dispatcher
    from app.messages.models import ScheduledJob

    if args.run and args.run not in DEFAULT_SCHEDULES:
        raise UsageError(f"no job {args.run!r}; the jobs are {', '.join(DEFAULT_SCHEDULES)}")
    if threading.current_thread() is threading.main_thread():
        # A worker process logs JSON lines; run from a thread (embedded, tests) it leaves
        # the host's logging (and signals) alone.
        configure_logging(settings.log_level)

    async def work(db: Database) -> int:
        delivery = Delivery(db, db.events, in_background=False)
        dispatcher = build_dispatcher(db, settings, load_keys(settings))
        jobs = Jobs(db, dispatcher.composer)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        handled = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, stop.set)
                handled.append(sig)
            except (ValueError, RuntimeError):  # not the main thread (tests): no signals
                pass
        if args.run:
            now = clock.now()
            await jobs.run_due(now)  # makes the job rows
            async with db.unit_of_work() as session:
                row = await session.get(ScheduledJob, args.run)
                if row is not None:
                    row.next_run_at = now
        print("worker: started", flush=True)
        try:
            while not stop.is_set():
                results = await jobs.run_due(clock.now())
                await delivery.drain()
                sent = await dispatcher.drain()
                for name, result in results.items():
                    print(f"job {name}: {result}", flush=True)
                if sent.sent or sent.failed:
                    print(f"messages: {sent.sent} sent, {sent.failed} failed", flush=True)
                if args.once:
                    break
                try:
                    await asyncio.wait_for(stop.wait(), settings.messages.worker_poll_seconds)
                except TimeoutError:
                    pass
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)
            await dispatcher.aclose()
        print("worker: stopped", flush=True)
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    worker = sub.add_parser(
        "worker", help="deliver messages and the outbox, run scheduled jobs (until SIGTERM)"
    )
    worker.add_argument("--once", action="store_true", help="one round, then exit")
    worker.add_argument("--run", metavar="JOB", help="make JOB due now (e.g. campaigns)")
    worker.set_defaults(handler=cmd_worker)
