"""The operator's `happy` command, run as a separate process like an operator would."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from app.db import Database
from app.receipts.models import Receipt
from app.receipts.service import MAX_BATCH_LINES
from app.settings import Settings, get_settings
from cli import build_parser, main
from cli.errors import CliError
from cli.money import format_money
from cli.receipts import check_batch
from cli.serve import build_config, default_workers
from tests.helpers import Api
from tests.pos.conftest import receipt, sign_up

Happy = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def happy(settings: Settings, db: Database, tmp_path: Path) -> Happy:
    env = {
        **os.environ,
        "HAPPY_ENV": "test",
        "HAPPY_DATABASE_URL": settings.database_url,
        "HAPPY_JWT_SECRET": settings.jwt_secret,
        "HAPPY_HASH_SECRET": settings.hash_secret,
        "HAPPY_SMS_OUTBOX": str(settings.sms_outbox),
        "HAPPY_LOG_LEVEL": "WARNING",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run


def test_demo_is_idempotent_and_stores_list_code_first(happy: Happy) -> None:
    first = happy("demo")
    assert first.returncode == 0, first.stderr
    assert "5 partners" in first.stdout
    header, *listed = happy("store", "list").stdout.splitlines()
    assert header.split("\t") == [
        "STORE",
        "PARTNER",
        "PARTNER NAME",
        "STORE NAME",
        "CITY",
        "COUNTRY",
        "CURRENCY",
        "STATE",
    ]
    assert happy("demo").returncode == 0
    assert happy("store", "list").stdout.splitlines()[1:] == listed and len(listed) >= 15
    rows = [line.split("\t") for line in listed]
    codes = [row[0] for row in rows]
    assert len(set(codes)) == len(codes)
    assert all(code and " " not in code for code in codes)
    assert {row[5] for row in rows} == {"AL", "XK", "MK", "ME"}
    assert {row[2] for row in rows} >= {
        "Neptun",
        "Spar",
        "Jumbo",
        "Smart Point",
        "Fashion Group Albania",
    }
    spar = next(row for row in rows if row[0] == "SPAR-TIR-01")
    assert spar[1:3] == ["SPAR", "Spar"] and spar[6] == "ALL"


async def test_ledger_check_finds_a_tampered_balance(happy: Happy, api: Api, db: Database) -> None:
    await api.sign_up("+355697770001")
    healthy = happy("ledger", "check")
    assert healthy.returncode == 0, healthy.stderr
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE points_accounts SET available = available + 5"))
    try:
        broken = happy("ledger", "check")
        assert broken.returncode == 1
        assert "cached 85, ledger 80" in broken.stderr
    finally:
        async with db.engine.begin() as conn:
            await conn.execute(text("UPDATE points_accounts SET available = available - 5"))
    assert happy("ledger", "check").returncode == 0


async def test_programme_set_changes_the_welcome_bonus(happy: Happy, api: Api) -> None:
    changed = happy("programme", "set", "--welcome-bonus", "100")
    assert changed.returncode == 0 and "welcome bonus 100" in changed.stdout
    session = await api.sign_up("+355697770002")
    assert session["member"]["balance"]["available"] == 100


def test_schema_check_passes_on_the_committed_snapshot(happy: Happy) -> None:
    result = happy("schema", "check")
    assert result.returncode == 0, result.stdout


def test_production_without_secrets_refuses_to_start(happy: Happy, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "serve", "--port", "1"],
        env={**os.environ, "HAPPY_ENV": "production", "HAPPY_DATABASE_URL": "sqlite:///x"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "refusing to start in production" in result.stderr


# --- in-process: main([...]) with capsys; every mistake is one line, never a traceback ---


@dataclass
class Said:
    code: int
    out: str
    err: str

    @property
    def line(self) -> str:
        """The one line on stderr (asserts there is exactly one and no traceback)."""
        assert "Traceback" not in self.err and "Traceback" not in self.out, self.err
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        return lines[0]


Operator = Callable[..., Awaitable[Said]]


@pytest.fixture
def operator(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> Iterator[Operator]:
    """``happy ...`` run in this process (its own event loop, in a thread) on the test db."""
    monkeypatch.setenv("HAPPY_ENV", "test")
    monkeypatch.setenv("HAPPY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HAPPY_JWT_SECRET", settings.jwt_secret)
    monkeypatch.setenv("HAPPY_HASH_SECRET", settings.hash_secret)
    get_settings.cache_clear()

    async def run(*argv: str, database_url: str | None = None) -> Said:
        if database_url is not None:
            monkeypatch.setenv("HAPPY_DATABASE_URL", database_url)
            get_settings.cache_clear()
        capsys.readouterr()
        code = await asyncio.to_thread(main, list(argv))
        said = capsys.readouterr()
        return Said(code, said.out, said.err)

    yield run
    get_settings.cache_clear()


async def test_usage_mistakes_are_one_line_and_exit_2(operator: Operator) -> None:
    unknown = await operator("store", "lis")
    assert unknown.code == 2
    assert "invalid choice: 'lis'" in unknown.line and "`happy store --help`" in unknown.line
    negative = await operator("programme", "set", "--welcome-bonus", "-5")
    assert negative.code == 2
    assert negative.line == (
        "happy: argument --welcome-bonus: must be 0 or more, not -5; "
        "see `happy programme set --help`"
    )
    word = await operator("reward-level", "set", "1", "--points", "many", "--vouchers", "1")
    assert word.code == 2 and "'many' is not a whole number" in word.line
    nothing = await operator("programme", "set")
    assert nothing.code == 2 and "nothing to change" in nothing.line
    currency = await operator(
        "earn-rule", "rate", "--partner", "SPAR", "--currency", "EURO", "--points", "1",
        "--per-amount", "100",
    )  # fmt: skip
    assert currency.code == 2 and "not a 3-letter currency code" in currency.line
    assert (await operator("--help")).code == 0


async def test_unknown_store_partner_and_key_say_where_to_look(operator: Operator) -> None:
    assert (await operator("demo")).code == 0
    store = await operator("partner", "key", "create", "--store", "NOPE-01")
    assert store.code == 1
    assert store.line == "happy: no store NOPE-01; see `happy store list`"
    partner = await operator(
        "earn-rule", "set", "--partner", "NOPE", "--brand", "x", "--multiplier", "200"
    )
    assert partner.code == 1 and partner.line.startswith("happy: no partner NOPE;")
    key = await operator("partner", "key", "revoke", "abcdef0123")
    assert key.code == 1
    assert key.line == "happy: no API key abcdef0123; see `happy partner key list`"
    level = await operator(
        "reward-level", "set", "3", "--points", "100", "--vouchers", "1", "--value", "100",
        "--partner", "NOPE",
    )  # fmt: skip
    assert level.code == 1 and "no partner NOPE" in level.line


async def test_money_is_printed_in_major_units(operator: Operator) -> None:
    assert (await operator("demo")).code == 0
    listed = await operator("reward-level", "list")
    assert listed.code == 0
    assert listed.out.splitlines()[0].split("\t") == ["LEVEL", "POINTS", "VOUCHERS"]
    assert "1\t5000 points\t6 x 4.00 EUR" in listed.out
    assert "2\t10000 points\t5 x 9.60 EUR" in listed.out
    changed = await operator(
        "reward-level", "set", "3", "--points", "20000", "--vouchers", "2", "--value", "150000",
        "--currency", "mkd",
    )  # fmt: skip
    assert changed.code == 0 and "2 x 1500.00 MKD" in changed.out
    rate = await operator(
        "earn-rule", "rate", "--partner", "SPAR", "--currency", "ALL", "--points", "1",
        "--per-amount", "10000",
    )  # fmt: skip
    assert rate.code == 0 and "SPAR: 1 point(s) per 100.00 ALL" in rate.out


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [(400, "EUR", "4.00 EUR"), (118000, "ALL", "1180.00 ALL"), (5, "mkd", "0.05 MKD"),
     (500, "JPY", "500 JPY"), (-1250, "EUR", "-12.50 EUR"), (1234, "KWD", "1.234 KWD")],
)  # fmt: skip
def test_format_money_uses_the_currency_exponent(amount: int, currency: str, shown: str) -> None:
    assert format_money(amount, currency) == shown


def test_every_option_has_help_text() -> None:
    missing: list[str] = []

    def walk(parser: argparse.ArgumentParser) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    if not choice.help:
                        missing.append(f"{parser.prog} {choice.dest}")
                for child in action.choices.values():
                    walk(child)
            elif not isinstance(action, argparse._HelpAction) and not action.help:
                missing.append(f"{parser.prog} {action.dest}")

    walk(build_parser())
    assert missing == []


async def test_database_mistakes_are_one_line(operator: Operator, tmp_path: Path) -> None:
    refused = await operator(
        "store", "list", database_url="postgresql+asyncpg://happy:s3cret@127.0.0.1:1/happy"
    )
    assert refused.code == 1
    assert refused.line.startswith("happy: cannot open the database at postgresql+asyncpg://")
    assert "s3cret" not in refused.line and "check HAPPY_DATABASE_URL" in refused.line
    for url in ("postgres://happy:s3cret@db/happy", "sqlite:///happy.db", "not a url"):
        wrong = await operator("store", "list", database_url=url)
        assert wrong.code == 2, url
        assert "is not a usable database URL" in wrong.line and "s3cret" not in wrong.line
        assert "postgresql+asyncpg://USER:PASSWORD@HOST" in wrong.line
    upgrade = await operator("db", "upgrade", database_url="postgres://x@db/happy")
    assert upgrade.code == 2 and "is not a usable database URL" in upgrade.line
    empty = await operator("store", "list", database_url=f"sqlite+aiosqlite:///{tmp_path}/new.db")
    assert empty.code == 1
    assert empty.line.endswith("run `happy db upgrade` first")


async def test_unexpected_failures_are_one_line_unless_asked(
    operator: Operator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> int:
        raise RuntimeError("something broke")

    monkeypatch.setattr("cli.ledger.cmd_ledger_check", broken)
    quiet = await operator("ledger", "check")
    assert quiet.code == 1
    assert quiet.line == (
        "happy: unexpected error: RuntimeError: something broke; "
        "run again with `happy --traceback ...` and report it"
    )
    loud = await operator("--traceback", "ledger", "check")
    assert loud.code == 1 and "Traceback" in loud.err


# --- receipts import: streamed, one line per problem, byte-order mark accepted ------------


async def test_import_reports_file_mistakes_once(operator: Operator, tmp_path: Path) -> None:
    assert (await operator("demo")).code == 0

    async def imported(path: Path, store: str = "SPAR-TIR-01") -> Said:
        return await operator("receipts", "import", str(path), "--store", store)

    missing = await imported(tmp_path / "nope.jsonl")
    assert missing.code == 1 and missing.line.startswith("happy: no file ")
    folder = await imported(tmp_path)
    assert folder.code == 1 and "is a folder" in folder.line
    binary = tmp_path / "card.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    said = await imported(binary)
    assert said.code == 1 and "is a binary file" in said.line
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes(
        "\n".join(
            json.dumps(receipt(f"L-{i}", None, cashierId="Qëndresa"), ensure_ascii=False)
            for i in range(50)
        ).encode("latin-1")
    )
    said = await imported(latin1)
    assert said.code == 1
    assert "is not UTF-8 text (line 1" in said.line and "save it as UTF-8" in said.line
    utf16 = tmp_path / "utf16.jsonl"
    utf16.write_text(json.dumps(receipt("U-1", None)), encoding="utf-16")
    said = await imported(utf16)
    assert said.code == 1 and "is UTF-16 text" in said.line
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(receipt("G-1", None)) + "\n")
    store = await imported(good, store="NOPE-01")
    assert store.code == 1 and store.line == "happy: no store NOPE-01; see `happy store list`"
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    said = await imported(empty)
    assert said.code == 0 and "no receipts in" in said.line


async def test_import_keeps_the_first_receipt_after_a_byte_order_mark(
    operator: Operator, api: Api, db: Database, tmp_path: Path
) -> None:
    assert (await operator("demo")).code == 0
    member = await sign_up(api, db)
    batch = tmp_path / "excel.jsonl"
    lines = [json.dumps(receipt(f"B-{i}", member.card), ensure_ascii=False) for i in (1, 2)]
    batch.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    said = await operator("receipts", "import", str(batch), "--store", "SPAR-TIR-01")
    assert said.code == 0, said.err
    rows = [json.loads(line) for line in said.out.splitlines()]
    assert [(r["line"], r["receiptId"], r["status"]) for r in rows] == [
        (1, "B-1", "accepted"),
        (2, "B-2", "accepted"),
    ]
    assert said.line == "2 accepted, 0 duplicate, 0 rejected"


async def test_import_refuses_a_batch_too_large_before_writing(
    operator: Operator, api: Api, db: Database, tmp_path: Path
) -> None:
    assert (await operator("demo")).code == 0
    member = await sign_up(api, db)
    batch = tmp_path / "big.jsonl"
    with batch.open("w") as out:
        for i in range(MAX_BATCH_LINES + 1):
            out.write(json.dumps(receipt(f"X-{i}", member.card)) + "\n")
    said = await operator("receipts", "import", str(batch), "--store", "SPAR-TIR-01")
    assert said.code == 1
    assert f"holds more than {MAX_BATCH_LINES} receipts; split it" in said.line
    async with db.read_session() as session:
        assert await session.scalar(select(func.count(Receipt.id))) == 0


def test_the_batch_check_streams_in_constant_memory(tmp_path: Path) -> None:
    """A 20 MB file is judged while reading: memory stays far below the file's size."""
    line = json.dumps(receipt("M-0", None)) + "\n"
    many = tmp_path / "many.jsonl"
    with many.open("w") as out:
        for _ in range(20_000_000 // len(line)):
            out.write(line)
    one_line = tmp_path / "one-line.jsonl"
    with one_line.open("wb") as out:
        for _ in range(20):
            out.write(b"x" * 1_000_000)
    for path, message in ((many, "holds more than"), (one_line, "longer than 1 MiB")):
        tracemalloc.start()
        try:
            with pytest.raises(CliError, match=message):
                check_batch(path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 4_000_000, (path.name, peak)


# --- happy serve: workers, TCP_NODELAY in every worker, proxy headers left to the app -----


def test_workers_default_to_one_in_development_and_the_cpus_in_production() -> None:
    assert default_workers(Settings(env="development")) == 1
    assert default_workers(Settings(env="test")) == 1
    assert default_workers(Settings(env="production")) == len(os.sched_getaffinity(0))


def test_serve_config_trusts_no_proxy_headers_and_runs_the_factory() -> None:
    config = build_config("127.0.0.1", 8000, 4)
    assert config.proxy_headers is False
    assert config.factory is True and config.app == "app.main:asgi_app"
    assert config.workers == 4


async def test_worker_connections_get_tcp_nodelay() -> None:
    """uvicorn issue #3149: the socket each worker receives (pickled by multiprocessing, as
    the supervisor hands it over) is TCP, so asyncio turns Nagle off on every connection."""
    listener = build_config("127.0.0.1", 0, 2).bind_socket()
    received: socket.socket = ForkingPickler.loads(ForkingPickler.dumps(listener))
    listener.close()
    assert received.proto == socket.IPPROTO_TCP
    nodelay: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Report(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            nodelay.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    received.listen()
    server = await asyncio.get_running_loop().create_server(Report, sock=received)
    try:
        port = received.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(nodelay, 10) == 1
        writer.close()
    finally:
        server.close()
        await server.wait_closed()


def test_serve_with_two_workers_answers_and_stops(settings: Settings, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "HAPPY_ENV": "test",
        "HAPPY_DATABASE_URL": settings.database_url,
        "HAPPY_LOG_LEVEL": "WARNING",
        "HAPPY_SMS_OUTBOX": str(tmp_path / "sms.jsonl"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        answers = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            # Two workers import the app each: slow on a loaded 2-core machine (no timing here).
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    answers.append(client.get("/healthz").json())
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            # Keep-alive: the same connection again and again.
            answers += [client.get("/healthz").json() for _ in range(10)]
        assert answers == [{"status": "ok"}] * 11
    finally:
        server.send_signal(signal.SIGINT)
        log, _ = server.communicate(timeout=60)
    assert server.returncode == 0, log
    assert "Traceback" not in log


def test_serve_on_a_port_in_use_is_one_line(settings: Settings) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "cli", "serve", "--workers", "2", "--port", str(port)],
            env={**os.environ, "HAPPY_ENV": "test", "HAPPY_DATABASE_URL": settings.database_url},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("happy: the server did not start on")


async def test_review_cases_are_one_clear_line(operator: Operator, tmp_path: Path) -> None:
    """Review of issue 16: huge numbers, an unknown revision and a file error."""
    huge = await operator("programme", "set", "--welcome-bonus", "99999999999999999999")
    assert huge.code == 2
    assert "argument --welcome-bonus: must be at most 2147483647" in huge.line
    points = await operator(
        "reward-level", "set", "1", "--points", "99999999999999999999", "--vouchers", "1"
    )
    assert points.code == 2 and "must be at most 2147483647" in points.line
    revision = await operator("db", "upgrade", "nonexistentrev")
    assert revision.code == 2 and revision.line.startswith("happy: database migration:")
    assert "nonexistentrev" in revision.line
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    certs = await operator("wallet", "dev-certs", "--out", str(blocked / "certs"))
    assert certs.code == 1
    assert str(blocked) in certs.line and "database" not in certs.line, certs.line
