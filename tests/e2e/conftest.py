"""The real app in a uvicorn subprocess on a fresh SQLite database, and Debian's Chromium.

Each test module gets its own server: ``happy db upgrade`` and ``happy demo`` on a temp
database, SMS written to a temp outbox file that the test reads to get the codes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
E2E_DIR = Path(__file__).resolve().parent
AXE_JS = E2E_DIR / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
HAPPY = Path(sys.executable).with_name("happy")

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    base_url: str
    env: dict[str, str]
    outbox: Path

    def happy(self, *args: str) -> str:
        """Run the operator command line against this server's database."""
        done = subprocess.run(
            [str(HAPPY), *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def last_code(self, phone: str) -> str:
        rows = [json.loads(line) for line in self.outbox.read_text().splitlines() if line]
        texts = [r["text"] for r in rows if r["to"] == phone]
        assert texts, f"no SMS to {phone}"
        match = re.search(r"\b(\d{6})\b", texts[-1])
        assert match
        return match.group(1)

    def sms_count(self, phone: str) -> int:
        if not self.outbox.exists():
            return 0
        return sum(1 for line in self.outbox.read_text().splitlines() if f'"{phone}"' in line)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
        )
    for stale in ARTIFACTS.glob("*.png"):
        stale.unlink()
    tmp = tmp_path_factory.mktemp("live")
    port = _free_port()
    env = {
        **os.environ,
        "HAPPY_ENV": "development",
        "HAPPY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'happy.db'}",
        "HAPPY_SMS_BACKEND": "outbox",
        "HAPPY_SMS_OUTBOX": str(tmp / "sms.jsonl"),
        "HAPPY_STORAGE_DIR": str(tmp / "files"),
        "HAPPY_WALLET_DEV_DIR": str(tmp / "wallet"),
        "HAPPY_APNS_OUTBOX": str(tmp / "apns.jsonl"),
        "HAPPY_GOOGLE_OUTBOX": str(tmp / "google-wallet.jsonl"),
        "HAPPY_JWT_SECRET": "e2e-jwt-secret-" + "x" * 32,
        "HAPPY_HASH_SECRET": "e2e-hash-secret-" + "y" * 32,
        "HAPPY_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "HAPPY_GOOGLE_ORIGINS": f"http://127.0.0.1:{port}",
        "HAPPY_OTP_RESEND_SECONDS": "2",
        "HAPPY_LOG_LEVEL": "WARNING",
    }
    server = LiveServer(f"http://127.0.0.1:{port}", env, tmp / "sms.jsonl")
    server.happy("db", "upgrade")
    server.happy("demo")
    log = (tmp / "server.log").open("w")
    process = subprocess.Popen(
        [str(HAPPY), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp / "server.log").read_text()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(live_server: LiveServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def axe_js() -> Path:
    """axe-core's script for the accessibility check, installed from tests/e2e/package.json
    (``npm ci``, pinned by the lock file) the first time on a fresh machine."""
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed for the accessibility check (apt-get install npm)"
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=E2E_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    assert AXE_JS.exists(), f"npm ci did not install {AXE_JS}"
    return AXE_JS
