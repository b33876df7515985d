"""Delivery that survives faults: back-off with jitter, dead letters and their retry,
a worker killed with SIGKILL mid-batch, graceful SIGTERM, and two workers on
PostgreSQL sharing the queue without sending anything twice."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app import clock
from app.db import Database, create_database
from app.keys import load_keys
from app.messages import service
from app.messages.dispatch import backoff
from app.messages.lifecycle import build_dispatcher
from app.messages.models import MemberMessage, MessageStatus
from app.settings import Settings
from tests.conftest import requires_postgres
from tests.helpers import Api
from tests.messages.conftest import Member, Sent, happy, sign_up


def test_backoff_grows_with_jitter() -> None:
    rng = random.Random(7)
    first = [backoff(1, rng).total_seconds() for _ in range(50)]
    assert all(15 <= s <= 30 for s in first) and len(set(first)) > 40  # jittered
    assert all(60 <= backoff(3, rng).total_seconds() <= 120 for _ in range(20))
    assert backoff(40, rng) <= timedelta(hours=6)


async def queue_many(db: Database, settings: Settings, member_ids: list[int], count: int) -> None:
    dispatcher = build_dispatcher(db, settings, load_keys(settings))
    async with db.unit_of_work() as session:
        for i in range(count):
            await service.compose(
                session,
                dispatcher.composer,
                member_id=member_ids[i % len(member_ids)],
                kind="points_earned",
                event_key=f"receipt:test-{i}",
                params={"points": i + 1, "partner": "Spar", "balance": 100 + i},
                now=clock.now(),
            )


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_dead_letter_after_max_attempts_then_retry(
    api: Api,
    db: Database,
    settings: Settings,
    member: Member,
    frozen_now: list[datetime],
    capsys: pytest.CaptureFixture[str],
    messages_cli_env: None,
    sent: Sent,
) -> None:
    await api.gql(
        'mutation { updateProfile(input: {email: "arta@example.com"}) { __typename } }',
        token=member.token,
    )
    await api.gql(
        "mutation { setMarketingConsent(channel: SMS, granted: false) { __typename } }",
        token=member.token,
    )
    broken = replace(
        settings,
        messages=replace(
            settings.messages,
            email_backend="smtp",
            smtp_port=unused_port(),  # nobody listens: every attempt fails
            smtp_security="none",
            max_attempts=3,
        ),
    )
    dispatcher = build_dispatcher(db, broken, load_keys(broken))
    await queue_many(db, broken, [member.id], 1)  # email: SMS refused, no push device
    for _ in range(3):
        report = await dispatcher.run_once()
        assert report.sent == 0
        frozen_now[0] += timedelta(hours=7)  # past any back-off
    async with db.read_session() as session:
        (message,) = await session.scalars(
            select(MemberMessage).where(MemberMessage.kind == "points_earned")
        )
    assert message.status is MessageStatus.FAILED and message.attempts == 3
    assert message.last_error and "Connect" in message.last_error
    capsys.readouterr()
    assert await happy(["messages", "list", "--failed"]) == 0
    listing = capsys.readouterr().out
    assert f"{message.id}\t{member.id}\tpoints_earned\temail\tfailed\t3" in listing
    assert await happy(["messages", "retry", str(message.id)]) == 0
    assert await happy(["messages", "retry", str(message.id)]) == 1  # pending now: refused
    assert "is pending: only failed or cancelled" in capsys.readouterr().err
    assert await happy(["messages", "retry", "999999"]) == 1
    assert "no message 999999" in capsys.readouterr().err
    # The mail server is back (recording): the retried message goes out once.
    assert await happy(["worker", "--once"]) == 0
    (email,) = sent.lines("email", kind="points_earned")
    assert email["to"] == "arta@example.com"


def worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAPPY_")}
    env.update(
        HAPPY_ENV="test",
        HAPPY_DATABASE_URL=settings.database_url,
        HAPPY_JWT_SECRET=settings.jwt_secret,
        HAPPY_HASH_SECRET=settings.hash_secret,
        HAPPY_SMS_OUTBOX=str(settings.sms_outbox),
        HAPPY_MESSAGES_OUTBOX_DIR=str(settings.messages.outbox_dir),
        HAPPY_MESSAGES_LEASE_SECONDS="1",
        HAPPY_WORKER_POLL_SECONDS="0.2",
        HAPPY_LOG_LEVEL="WARNING",
    )
    return env


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "cli", "worker"],
            env=worker_env(settings),
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2],
        )


def wait_for(condition: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


async def test_killed_worker_loses_nothing_and_sends_nothing_twice(
    api: Api, db: Database, settings: Settings, sent: Sent, tmp_path: Path
) -> None:
    first = await sign_up(api, db, "+355691000011")
    second = await sign_up(api, db, "+355691000012")
    total = 300
    await queue_many(db, settings, [first.id, second.id], total)
    log = tmp_path / "worker.log"

    worker = start_worker(settings, log)
    try:
        wait_for(lambda: len(sent.lines("sms", kind="points_earned")) >= 20)
        worker.send_signal(signal.SIGKILL)  # mid-batch: claimed messages left "sending"
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert len(sent.lines("sms", kind="points_earned")) < total

    worker = start_worker(settings, log)
    try:
        wait_for(lambda: len(sent.lines("sms", kind="points_earned")) >= total)
        worker.send_signal(signal.SIGTERM)  # graceful: finishes its step, exits 0
        assert worker.wait(timeout=20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    assert "worker: stopped" in log.read_text()

    lines = sent.lines("sms", kind="points_earned")
    keys = Counter(line["idempotency_key"] for line in lines)
    assert len(keys) == total and max(keys.values()) == 1  # every message, none twice
    async with db.read_session() as session:
        statuses = Counter((await session.scalars(select(MemberMessage.status))).all())
    assert statuses == {MessageStatus.SENT: total + 2}  # with the two welcomes


@requires_postgres
async def test_two_workers_share_the_queue_without_sending_twice(
    api: Api, db: Database, settings: Settings, sent: Sent
) -> None:
    members = [await sign_up(api, db, f"+35569100002{i}") for i in range(3)]
    total = 400
    await queue_many(db, settings, [m.id for m in members], total)
    databases = [create_database(settings) for _ in range(2)]
    try:
        dispatchers = [build_dispatcher(d, settings, load_keys(settings)) for d in databases]
        reports = await asyncio.gather(*(d.drain(max_rounds=50) for d in dispatchers))
    finally:
        for database in databases:
            await database.dispose()
    assert sum(r.sent for r in reports) == total
    assert all(r.sent > 0 for r in reports)  # both took a share
    async with db.read_session() as session:
        rows = (
            await session.execute(
                select(MemberMessage.status, MemberMessage.attempts).where(
                    MemberMessage.kind == "points_earned"
                )
            )
        ).all()
    # Claimed once each: a message two workers had both sent would show two attempts.
    assert Counter(rows) == {(MessageStatus.SENT, 1): total}
    keys = Counter(line["idempotency_key"] for line in sent.lines("sms", kind="points_earned"))
    assert len(keys) == total and max(keys.values()) == 1


@requires_postgres
async def test_a_batch_slower_than_its_lease_never_sends_a_message_twice(
    api: Any, db: Database, settings: Settings
) -> None:
    """Two workers, a lease far shorter than a batch, and a provider that does not drop
    repeats (like SNS): each message is sent once, because a worker renews its claim right
    before each send and skips what another worker has taken."""
    from app.messages.models import Channel

    sent: list[str] = []

    class SlowSms:
        async def send(self, message: Any) -> None:
            await asyncio.sleep(0.02)
            sent.append(message.idempotency_key)

        async def aclose(self) -> None:
            return None

    members = [await sign_up(api, db, f"+35569100004{i}") for i in range(2)]
    short = replace(settings, messages=replace(settings.messages, lease_seconds=1))
    await queue_many(db, short, [m.id for m in members], 300)
    databases = [create_database(short) for _ in range(2)]
    try:
        dispatchers = [build_dispatcher(d, short, load_keys(short)) for d in databases]
        for dispatcher in dispatchers:
            dispatcher.channels[Channel.SMS] = SlowSms()
        await asyncio.gather(*(d.drain(max_rounds=50) for d in dispatchers))
    finally:
        for database in databases:
            await database.dispose()
    twice = {key: n for key, n in Counter(sent).items() if n > 1}
    assert not twice and len(set(sent)) == len(sent) > 0
