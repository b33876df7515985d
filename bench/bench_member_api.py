"""Member door load: ``python bench/bench_member_api.py [REQUESTS] [CONCURRENCY]``.

Starts ``happy serve`` (one uvicorn worker) on a free port with a fresh SQLite database (or the
database in ``HAPPY_DATABASE_URL``), registers 50 members through requestOtp/verifyOtp, then
sends REQUESTS (default 2,000) ``me`` queries (card, balance and the last 10 ledger entries)
from CONCURRENCY (default 20) concurrent clients over HTTP. Prints throughput and latency.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ME = (
    "{ me { phone card { number } balance { available pending lifetime } "
    "activity(first: 10) { edges { node { kind points balanceAfter } } } } }"
)
REQUEST = 'mutation { requestOtp(phone: "%s") { __typename } }'
VERIFY = (
    'mutation { verifyOtp(phone: "%s", code: "%s", channel: APP) '
    "{ __typename ... on Session { accessToken } } }"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def last_code(outbox: Path, phone: str) -> str:
    line = [json.loads(x) for x in outbox.read_text().splitlines() if phone in x][-1]
    return next(w for w in line["text"].split() if w.isdigit() and len(w) == 6)


async def sign_up(client: httpx.AsyncClient, outbox: Path, phone: str) -> str:
    await client.post("/graphql", json={"query": REQUEST % phone})
    code = await asyncio.to_thread(last_code, outbox, phone)
    body = (await client.post("/graphql", json={"query": VERIFY % (phone, code)})).json()
    token: str = body["data"]["verifyOtp"]["accessToken"]
    return token


async def load(
    base: str, outbox: Path, requests: int, concurrency: int
) -> tuple[list[float], float]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        tokens = [await sign_up(client, outbox, f"+35569{1000000 + i}") for i in range(50)]
        latencies: list[float] = []
        remaining = iter(range(requests))

        async def worker() -> None:
            for _ in remaining:
                token = random.choice(tokens)
                start = time.perf_counter()
                response = await client.post(
                    "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"}
                )
                latencies.append(time.perf_counter() - start)
                assert response.status_code == 200 and "errors" not in response.json()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, time.perf_counter() - started


def main(requests: int = 2000, concurrency: int = 20) -> int:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        port = free_port()
        env = {
            **os.environ,
            "HAPPY_DATABASE_URL": os.environ.get(
                "HAPPY_DATABASE_URL", f"sqlite+aiosqlite:///{work / 'bench.db'}"
            ),
            "HAPPY_SMS_OUTBOX": str(work / "sms.jsonl"),
            "HAPPY_OTP_SENDS_PER_IP_PER_HOUR": "100000",
            "HAPPY_OTP_VERIFIES_PER_IP_PER_HOUR": "100000",
            "HAPPY_LOG_LEVEL": "WARNING",
        }
        happy = [sys.executable, "-m", "cli"]
        subprocess.run([*happy, "db", "upgrade"], env=env, check=True, capture_output=True)
        server = subprocess.Popen([*happy, "serve", "--port", str(port)], env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    httpx.get(f"{base}/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            latencies, elapsed = asyncio.run(load(base, work / "sms.jsonl", requests, concurrency))
        finally:
            server.terminate()
            server.wait()
    ms = sorted(x * 1000 for x in latencies)
    database = env["HAPPY_DATABASE_URL"].split(":")[0]
    print(f"machine: {platform.machine()} Python {platform.python_version()}, db: {database}")
    print(
        f"{len(ms)} me queries, {concurrency} concurrent: {len(ms) / elapsed:.0f} req/s, "
        f"p50 {statistics.median(ms):.1f} ms, "
        f"p95 {ms[int(len(ms) * 0.95)]:.1f} ms, max {ms[-1]:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:3])))
