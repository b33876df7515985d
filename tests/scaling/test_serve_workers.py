"""``happy serve --workers 2`` on PostgreSQL, as real processes on a free port: the two
worker processes (told apart by which one holds each accepted socket) share idempotency
(the same receipt sent through both credits once) and rate limits (SMS code requests for
one number beyond the limit are refused whichever worker answers), keep-alive requests are
not delayed by Nagle's algorithm, and SIGTERM lets in-flight requests finish."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db import Database
from app.ledger.models import EntryKind, PointsEntry
from app.settings import Settings
from tests.conftest import requires_postgres
from tests.helpers import REQUEST_OTP, Api
from tests.pos.conftest import SUBMIT, Member, Pos, receipt

pytestmark = requires_postgres


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    pending = [pid]
    while pending:
        current = pending.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    pending.append(child)
    return found


def _socket_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server side of the connection from ``client_port``."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == server_port and (
            int(remote.split(":")[1], 16) == client_port
        ):
            return inode
    return None


def _owner(pids: set[int], inode: str) -> int | None:
    target = f"socket:[{inode}]"
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                if os.readlink(fd) == target:
                    return pid
            except OSError:
                continue
    return None


class Server:
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.port = port
        self.opened: list[http.client.HTTPConnection] = []

    def connect(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        self.opened.append(conn)
        conn.connect()
        return conn

    def worker_of(self, conn: http.client.HTTPConnection) -> int:
        """The pid of the worker process that accepted ``conn`` (after one answer on it)."""
        assert conn.sock is not None
        inode = _socket_inode(self.port, conn.sock.getsockname()[1])
        assert inode is not None and inode != "0"
        owner = _owner(_descendants(self.process.pid), inode)
        assert owner is not None
        return owner


def call(
    conn: http.client.HTTPConnection, path: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json", **headers})
    response = conn.getresponse()
    answer: dict[str, Any] = json.loads(response.read())
    return response.status, answer


def get(conn: http.client.HTTPConnection, path: str) -> int:
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response.status


@pytest.fixture
def server(settings: Settings, tmp_path: Path, spar: Pos, member: Member) -> Iterator[Server]:
    port = _free_port()
    env = {
        **os.environ,
        "HAPPY_ENV": "test",
        "HAPPY_DATABASE_URL": settings.database_url,
        "HAPPY_JWT_SECRET": settings.jwt_secret,
        "HAPPY_HASH_SECRET": settings.hash_secret,
        "HAPPY_SMS_OUTBOX": str(settings.sms_outbox),
        "HAPPY_STORAGE_DIR": str(tmp_path / "files"),
        "HAPPY_MESSAGES_OUTBOX_DIR": str(tmp_path / "outbox"),
        "HAPPY_DATABASE_POOL_SIZE": "5",
        "HAPPY_LOG_LEVEL": "WARNING",
        "HAPPY_SHUTDOWN_TIMEOUT_SECONDS": "20",
    }
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = Server(process, port)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = running.connect()
                if get(conn, "/healthz") == 200:
                    conn.close()
                    break
            except OSError:
                pass
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield running
    finally:
        for conn in running.opened:
            conn.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        finally:
            log.close()
    text = (tmp_path / "server.log").read_text()
    assert process.returncode == 0, text
    assert "Traceback" not in text and '"level": "ERROR"' not in text, text


def connections_to_both_workers(server: Server) -> dict[int, list[http.client.HTTPConnection]]:
    """Open connections (answered once each) until both workers hold some."""
    by_worker: dict[int, list[http.client.HTTPConnection]] = {}
    deadline = time.monotonic() + 60  # the second worker may still be loading the app
    while time.monotonic() < deadline:
        batch = [server.connect() for _ in range(8)]
        with ThreadPoolExecutor(len(batch)) as pool:
            assert set(pool.map(lambda c: get(c, "/healthz"), batch)) == {200}
        for conn in batch:
            by_worker.setdefault(server.worker_of(conn), []).append(conn)
        if len(by_worker) >= 2 and min(len(c) for c in by_worker.values()) >= 3:
            break
        time.sleep(0.2)
    assert len(by_worker) == 2, f"connections landed on {sorted(by_worker)} only"
    return by_worker


def all_at_once(
    conns: list[http.client.HTTPConnection], send: Callable[[http.client.HTTPConnection], Any]
) -> list[Any]:
    start = threading.Barrier(len(conns))

    def one(conn: http.client.HTTPConnection) -> Any:
        start.wait()
        return send(conn)

    with ThreadPoolExecutor(len(conns)) as pool:
        return list(pool.map(one, conns))


async def test_two_workers_credit_one_receipt_once_and_share_rate_limits(
    server: Server, spar: Pos, member: Member, db: Database, api: Api
) -> None:
    by_worker = connections_to_both_workers(server)
    conns = [c for group in by_worker.values() for c in group[:3]]  # 3 on each worker

    body = {"query": SUBMIT, "variables": {"input": receipt("TWO-WORKERS-1", member.card)}}
    till = {"Authorization": f"Bearer {spar.key}"}
    answers = all_at_once(conns, lambda c: call(c, "/partner/graphql", body, till))
    assert {status for status, _ in answers} == {200}
    results = [a["data"]["submitReceipt"] for _, a in answers]
    assert all(r == results[0] for r in results), results
    assert results[0]["__typename"] == "ReceiptAccepted" and results[0]["pointsEarned"] == 11
    async with db.read_session() as session:
        earns = (
            await session.execute(
                select(func.count())
                .select_from(PointsEntry)
                .where(PointsEntry.kind == EntryKind.EARN)
            )
        ).scalar_one()
    assert earns == 1
    assert (await api.me(member.token))["balance"]["available"] == 80 + 11

    # One number asks for SMS codes through both workers at once: one code is sent.
    otp = {"query": REQUEST_OTP, "variables": {"phone": "+355697770001"}}
    answers = all_at_once(conns, lambda c: call(c, "/graphql", otp, {}))
    kinds = Counter(a["data"]["requestOtp"]["__typename"] for _, a in answers)
    assert kinds == {"OtpRequested": 1, "RateLimitedError": len(conns) - 1}, kinds
    # ... and each worker refuses the next one too.
    for group in by_worker.values():
        _, again = call(group[0], "/graphql", otp, {})
        assert again["data"]["requestOtp"]["__typename"] == "RateLimitedError"

    # Keep-alive requests on one connection are not held back by delayed ACKs (~40 ms).
    conn = conns[0]
    took = []
    for _ in range(20):
        began = time.perf_counter()
        assert get(conn, "/healthz") == 200
        took.append(time.perf_counter() - began)
    assert statistics.median(took) < 0.02, took


async def test_sigterm_lets_in_flight_requests_finish(
    server: Server, spar: Pos, member: Member, db: Database
) -> None:
    by_worker = connections_to_both_workers(server)
    conns = [c for group in by_worker.values() for c in group[:3]]
    till = {"Content-Type": "application/json", "Authorization": f"Bearer {spar.key}"}
    for i, conn in enumerate(conns):  # every request sent before the signal
        body = {"query": SUBMIT, "variables": {"input": receipt(f"DRAIN-{i}", member.card)}}
        conn.request("POST", "/partner/graphql", json.dumps(body), till)
    await asyncio.sleep(0.1)  # read by the workers, in flight
    server.process.send_signal(signal.SIGTERM)
    answers = []
    for conn in conns:
        response = conn.getresponse()
        answers.append((response.status, json.loads(response.read())))
    assert {status for status, _ in answers} == {200}, answers
    assert {a["data"]["submitReceipt"]["__typename"] for _, a in answers} == {"ReceiptAccepted"}
    assert server.process.wait(timeout=60) == 0
    with pytest.raises(OSError):  # no longer accepting
        server.connect()
    async with db.read_session() as session:
        earns = (
            await session.execute(
                select(func.count())
                .select_from(PointsEntry)
                .where(PointsEntry.kind == EntryKind.EARN)
            )
        ).scalar_one()
    assert earns == len(conns)
