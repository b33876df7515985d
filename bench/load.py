"""Driving a server with wrk and one of the ``bench/wrk/*.lua`` scripts."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

WRK_DIR = Path(__file__).resolve().parent / "wrk"
HOW_TO_GET_WRK = (
    "wrk is needed (the load generator): apt-get install -y wrk (Debian/Ubuntu), "
    "brew install wrk (macOS), or build it from https://github.com/wg/wrk"
)


def check_wrk() -> str:
    """The path of wrk, or SystemExit with how to get it."""
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(HOW_TO_GET_WRK)
    return found


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    failures: int  # answered, but not with the operation's success (or not HTTP 200)
    socket_errors: int
    timeouts: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    first_failure: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Job:
    """One wrk invocation's script and its arguments (see bench/wrk/common.lua)."""

    script: str  # file name under bench/wrk
    items: Path  # tokens, card numbers or voucher codes, one a line
    partner_key: str  # "-" for the member door
    tag: str = "x"
    extra: str = ""


def run_wrk(
    base_url: str,
    job: Job,
    *,
    seconds: float,
    connections: int,
    threads: int,
    max_responses: int = 0,
) -> WrkResult:
    threads = max(1, min(threads, connections))
    argv = [
        check_wrk(),
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_DIR / job.script),
        base_url,
        "--",
        str(job.items),
        job.partner_key,
        job.tag,
        str(max_responses),
        str(threads),
        job.extra or "-",
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120, check=False)
    marker = next(
        (line for line in done.stdout.splitlines() if line.startswith("BENCH_JSON ")), None
    )
    if done.returncode != 0 or marker is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(marker.removeprefix("BENCH_JSON "))
    return WrkResult(
        requests=int(data["requests"]),
        seconds=data["duration_us"] / 1e6,
        failures=int(data["failures"]),
        socket_errors=int(data["socket_errors"]),
        timeouts=int(data["timeouts"]),
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        mean_ms=data["mean_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        first_failure=str(data["first_failure"]),
    )
