"""``happy serve --workers``: ``python bench/bench_workers.py [SECONDS] [CONNECTIONS]``.

Starts the server three ways on a fresh SQLite database (or ``HAPPY_DATABASE_URL``), one after
the other on free loopback ports: ``happy serve --workers 1``, ``happy serve --workers 2`` and,
for comparison, stock ``uvicorn --workers 2`` (which loses TCP_NODELAY on accepted connections:
uvicorn issue #3149). Against each, ``wrk`` (Debian package ``wrk``) sends the member ``me``
query (CPU-bound: strawberry execution plus three short reads) over CONNECTIONS (default 4)
keep-alive connections for SECONDS (default 8). Prints requests/s and latency percentiles.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import socket
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
PHONE = "+355691000001"
LUA = """wrk.method = "POST"
wrk.body = %s
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def sign_up(base: str, outbox: Path) -> str:
    with httpx.Client(base_url=base, timeout=30) as client:
        request = f'mutation {{ requestOtp(phone: "{PHONE}") {{ __typename }} }}'
        client.post("/graphql", json={"query": request})
        line = [json.loads(x) for x in outbox.read_text().splitlines() if PHONE in x][-1]
        code = next(w for w in line["text"].split() if w.isdigit() and len(w) == 6)
        verify = (
            f'mutation {{ verifyOtp(phone: "{PHONE}", code: "{code}", channel: APP) '
            "{ __typename ... on Session { accessToken } } }"
        )
        body = client.post("/graphql", json={"query": verify}).json()
        token: str = body["data"]["verifyOtp"]["accessToken"]
        return token


def wait_ready(base: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def run_wrk(base: str, script: Path, seconds: int, connections: int) -> dict[str, str]:
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s",
         str(script), f"{base}/graphql"],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    result = {"req/s": re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)}  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        found = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.MULTILINE)
        result[f"p{pct}"] = found.group(1) if found else "?"
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non-2xx"] = errors.group(1) if errors else "0"
    return result


def main(seconds: int = 8, connections: int = 4) -> int:
    if shutil.which("wrk") is None:
        print("needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    variants = {
        "happy serve --workers 1": ["-m", "cli", "serve", "--workers", "1"],
        "happy serve --workers 2": ["-m", "cli", "serve", "--workers", "2"],
        "stock uvicorn --workers 2": ["-m", "uvicorn", "app.main:asgi_app", "--factory",
                                      "--workers", "2", "--no-proxy-headers", "--log-level",
                                      "warning"],
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        env = {
            **os.environ,
            "HAPPY_DATABASE_URL": os.environ.get(
                "HAPPY_DATABASE_URL", f"sqlite+aiosqlite:///{work / 'bench.db'}"
            ),
            "HAPPY_SMS_OUTBOX": str(work / "sms.jsonl"),
            "HAPPY_LOG_LEVEL": "WARNING",
        }
        subprocess.run(
            [sys.executable, "-m", "cli", "db", "upgrade"], env=env, check=True, capture_output=True
        )
        token = ""
        results = {}
        for name, argv in variants.items():
            port = free_port()
            server = subprocess.Popen(
                [sys.executable, *argv, "--port", str(port)], env=env, stderr=subprocess.DEVNULL
            )
            try:
                base = f"http://127.0.0.1:{port}"
                wait_ready(base)
                token = token or sign_up(base, work / "sms.jsonl")
                script = work / "me.lua"
                script.write_text(LUA % (json.dumps(json.dumps({"query": ME})), token))
                run_wrk(base, script, 2, connections)  # warm-up: every worker loaded
                results[name] = run_wrk(base, script, seconds, connections)
            finally:
                server.terminate()
                server.wait(timeout=60)
    print(
        f"machine: {os.cpu_count()} CPUs {platform.machine()}, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}; "
        f"wrk {connections} keep-alive connections, {seconds} s each"
    )
    for name, result in results.items():
        print(
            f"{name:28} {result['req/s']:>8} req/s  p50 {result['p50']:>8}  "
            f"p90 {result['p90']:>8}  p99 {result['p99']:>8}  non-2xx {result['non-2xx']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:3])))
