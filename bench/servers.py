"""The two servers under test, as processes: start, wait, CPU time, stop.

Happy runs as production runs it, ``happy serve`` (``--workers N`` when asked); the
baseline runs ``python -m bench.baseline`` under the same uvicorn settings. CPU time is
utime + stime of the server's whole process tree (the supervisor and its workers) read
from ``/proc/<pid>/stat``, so one worker or several are measured alike.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.fixtures import ROOT, wait_ready

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, utime + stime in ticks) of ``pid``, None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
    return int(fields[1]), int(fields[11]) + int(fields[12])


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds (user + system) of ``root`` and every live descendant."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _stat(int(entry))
            if found is not None:
                parents[int(entry)], ticks[int(entry)] = found
    total = 0
    for pid, tick in ticks.items():
        current: int | None = pid
        while current is not None and current > 1:
            if current == root:
                total += tick
                break
            current = parents.get(current)
    return total / CLOCK_TICKS


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def serve_supports_workers(env: dict[str, str]) -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "cli", "serve", "--help"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return "--workers" in done.stdout


def start(name: str, argv: list[str], env: dict[str, str], log: Path, port: int) -> Server:
    handle = log.open("ab")
    process = subprocess.Popen(
        [sys.executable, *argv],
        env=env,
        cwd=ROOT,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    handle.close()
    server = Server(name, process, port, log)
    try:
        wait_ready(server.url)
    except RuntimeError:
        server.stop()
        raise RuntimeError(f"{name} did not start; its log:\n{log.read_text()[-3000:]}") from None
    return server


def start_happy(env: dict[str, str], workers: int, log: Path) -> Server:
    port = free_port()
    argv = ["-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if serve_supports_workers(env):
        argv += ["--workers", str(workers)]
    elif workers != 1:
        raise RuntimeError("this `happy serve` has no --workers option")
    return start("Happy", argv, env, log, port)


def start_baseline(env: dict[str, str], workers: int, log: Path) -> Server:
    port = free_port()
    argv = ["-m", "bench.baseline", "--port", str(port), "--workers", str(workers)]
    return start("baseline", argv, env, log, port)
