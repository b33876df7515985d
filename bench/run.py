"""``make bench`` / ``python -m bench.run``: Happy against a bare Starlette + asyncpg
baseline, operation by operation, under wrk.

1. Fresh PostgreSQL databases: ``main`` (``happy db upgrade`` + ``happy demo``, a partner
   key, a pool of members signed up through the member door) and ``big`` (the same plus
   ``bench/seed_big.sql``: 200k members, 2M receipts with 3 lines each).
2. Round trips and SQL: each server in turn talks to PostgreSQL through a counting proxy
   (``bench/pgproxy.py``); after a warm-up, a few requests of each operation are sent by the
   same wrk scripts, and the proxy counts the round trips (Sync and Query messages) and
   records the statements, which are compared between the two servers (the baseline must
   mirror Happy's SQL: ``bench/baseline_sql.py``).
3. Load: both servers straight on PostgreSQL, rounds alternating (Happy, baseline, Happy,
   baseline...) per operation, wrk with ``--connections`` (``redeemVoucher``: one client).
   Server CPU per request is the server process tree's utime + stime (``/proc``) over the
   round divided by the requests answered.
4. A markdown table (and the issue 15 targets, met or missed by how much); without
   ``--no-record``, appended to ``bench/RESULTS.md`` with the date, commit and machine.

``--smoke`` (CI): one 1 s round each on a tiny big database (through the proxy, on the
servers of the SQL phase), proving the harness works and that the baseline sends Happy's
SQL; no thresholds and nothing recorded. Any run (smoke included) exits with status 1 when
the baseline does not send Happy's SQL for some operation, unless ``--allow-sql-mismatch``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import fixtures
from bench.fixtures import ROOT, PoolMember, Secrets
from bench.load import Job, WrkResult, check_wrk, run_wrk
from bench.operations import BY_NAME, OPERATIONS, Operation
from bench.pgproxy import ProxyThread, Traffic
from bench.servers import Server, start_baseline, start_happy

RESULTS = ROOT / "bench" / "RESULTS.md"


@dataclass(frozen=True)
class Options:
    seconds: float
    connections: int
    threads: int
    rounds: int
    workers: int
    warmup: float
    members: int  # the pool whose tokens and cards the scripts use
    big_members: int
    big_receipts: int
    operations: tuple[Operation, ...]
    record: bool
    smoke: bool
    traffic_requests: int
    capture_sql: bool
    allow_sql_mismatch: bool = False
    as_python: bool = False


@dataclass
class Database:
    """One prepared database and what the scripts need from it."""

    name: str
    env: dict[str, str]
    partner_key: str
    pool: list[PoolMember]
    seed_seconds: float | None = None


@dataclass
class Measured:
    runs: list[WrkResult] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    round_trips: float | None = None  # everything the server sent, per request (average)
    request_round_trips: int | None = None  # one request, up to its unit of work's COMMIT
    statements: list[str] = field(default_factory=list)  # one request's, as sent

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.runs)

    @property
    def rate(self) -> float:
        seconds = sum(r.seconds for r in self.runs)
        return self.requests / seconds if seconds else 0.0

    @property
    def p50(self) -> float:
        return statistics.fmean(r.p50_ms for r in self.runs) if self.runs else 0.0

    @property
    def p99(self) -> float:
        return statistics.fmean(r.p99_ms for r in self.runs) if self.runs else 0.0

    @property
    def cpu_ms(self) -> float:
        return 1000 * sum(self.cpu_seconds) / self.requests if self.requests else 0.0

    @property
    def failures(self) -> int:
        return sum(r.failures + r.socket_errors + r.timeouts for r in self.runs)


SERVERS = ("Happy", "baseline")


class Bench:
    def __init__(self, options: Options, work: Path) -> None:
        self.options = options
        self.work = work
        self.secrets = Secrets.fresh()
        self.suffix = f"{os.getpid()}"
        self.databases: dict[str, Database] = {}
        self.results: dict[str, dict[str, Measured]] = {
            op.name: {name: Measured() for name in SERVERS} for op in options.operations
        }
        self.sequence = 0

    # --- data -------------------------------------------------------------------------

    def prepare(self) -> None:
        """The main database (schema, demo, key), the big one cloned from it before any
        member exists (then seeded), and the main one's members signed up at the door."""
        main = f"happy_bench_main_{self.suffix}"
        say(f"database {main}: happy db upgrade, happy demo, partner key")
        asyncio.run(fixtures.recreate_database(main))
        env = fixtures.happy_env(main, self.work, self.secrets)
        key = fixtures.prepare_programme(env)
        if any(op.database == "big" for op in self.options.operations):
            self.databases["big"] = self._prepare_big(main, key)
        # Members sign up through the first Happy started on it (see measure).
        self.databases = {"main": Database(main, env, key, []), **self.databases}

    def sign_up_members(self, database: Database, happy: Server) -> None:
        say(f"{self.options.members} members sign up through the member door")
        fixtures.register_members_sync(happy.url, self.work / "sms.jsonl", self.options.members)
        database.pool = asyncio.run(
            fixtures.member_pool(database.name, self.options.members, fixtures.SIGNED_UP)
        )

    def _prepare_big(self, template: str, key: str) -> Database:
        members, receipts = self.options.big_members, self.options.big_receipts
        if self.options.smoke:  # its few receipts go into the main database: one server pair
            name = template
        else:
            name = f"happy_bench_big_{self.suffix}"
            asyncio.run(fixtures.recreate_database(name, template=template))
        say(f"database {name}: {members:,} members, {receipts:,} receipts (bench/seed_big.sql)")
        env = fixtures.happy_env(name, self.work, self.secrets)
        seconds = asyncio.run(fixtures.seed_big(name, members, receipts, pool=self.options.members))
        say(f"  seeded in {seconds:.1f} s")
        pool = asyncio.run(fixtures.member_pool(name, self.options.members, fixtures.SEEDED))
        return Database(name, env, key, pool, seed_seconds=seconds)

    def check_ledger(self) -> None:
        """The signed-up members' balances (the run's receipts credit them, from both
        servers) equal the sum of their ledger entries and of their lots' remaining points,
        as ``happy ledger check`` requires (the seeded big members have no ledger)."""
        main = self.databases["main"]
        bad = asyncio.run(fixtures.ledger_mismatches(main.name, [m.member_id for m in main.pool]))
        if bad:
            raise SystemExit(f"balances differ from their ledger: {bad[:5]}")
        say(f"ledger: the {len(main.pool)} signed-up members' balances match their entries")

    def drop(self) -> None:
        for name in {database.name for database in self.databases.values()}:
            asyncio.run(fixtures.drop_database(name))

    def job(self, op: Operation, server: str, database: Database, expected: int) -> Job:
        """The script and a fresh items file for one wrk run of ``op`` against ``server``."""
        self.sequence += 1
        tag = f"{server[0].lower()}{self.sequence}-{self.suffix}"
        path = self.work / f"{op.name}-{self.sequence}.txt"
        if op.items == "tokens":
            items = fixtures.access_tokens(database.pool, self.secrets)
        elif op.items == "cards":
            items = [m.card for m in database.pool]
        else:
            items = asyncio.run(fixtures.issue_vouchers(database.name, database.pool, expected))
        path.write_text("\n".join(items) + "\n")
        key = database.partner_key if op.door == "partner" else "-"
        issued = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return Job(op.script, path, key, tag=tag, extra=issued)

    # --- servers ----------------------------------------------------------------------

    @contextlib.contextmanager
    def servers(self, database: Database, db_port: int, label: str) -> Iterator[list[Server]]:
        env = fixtures.happy_env(database.name, self.work, self.secrets, db_port=db_port)
        started: list[Server] = []
        try:
            log = self.work / f"happy-{label}.log"
            started.append(start_happy(env, self.options.workers, log))
            log = self.work / f"baseline-{label}.log"
            started.append(start_baseline(env, self.options.workers, log))
            yield started
        finally:
            for server in started:
                server.stop()

    # --- phase 2: round trips and SQL ------------------------------------------------

    def measure(self) -> None:
        """Per database: round trips and SQL through the proxy, then the load rounds on
        servers of their own straight on PostgreSQL (``--smoke``: the same servers, to
        save their start-up; its numbers prove the harness works, nothing more)."""
        by_name: dict[str, list[tuple[Operation, Database]]] = {}
        for op in self.options.operations:
            database = self.databases[op.database]
            by_name.setdefault(database.name, []).append((op, database))
        for name, work in by_name.items():
            main = self.databases["main"]
            with ProxyThread(fixtures.PG_HOST, fixtures.PG_PORT) as proxy:
                with self.servers(work[0][1], proxy.port, f"{name}-traffic") as servers:
                    if name == main.name and not main.pool:
                        self.sign_up_members(main, servers[0])
                    say(f"round trips and SQL on {name} (through the counting proxy)")
                    self.measure_traffic(work, proxy, servers)
                    if self.options.smoke:
                        say(f"load on {name} (smoke: through the proxy)")
                        self.measure_load(work, servers)
            if not self.options.smoke and not self.options.capture_sql:
                with self.servers(work[0][1], fixtures.PG_PORT, f"{name}-load") as servers:
                    say(f"load on {name} (alternating rounds)")
                    self.measure_load(work, servers)

    def measure_traffic(
        self, work: list[tuple[Operation, Database]], proxy: ProxyThread, servers: list[Server]
    ) -> None:
        for op, database in work:
            for server in servers:
                measured = self.results[op.name][server.name]
                rt, first = self._traffic(op, server, database, proxy)
                measured.round_trips = rt
                measured.statements = without_poller(first)
                measured.request_round_trips = request_round_trips(first)
                say(
                    f"  {op.name:18} {server.name:8} {rt:5.1f} round trips "
                    f"({measured.request_round_trips} before the response's commit)"
                )

    def _traffic(
        self, op: Operation, server: Server, database: Database, proxy: ProxyThread
    ) -> tuple[float, Traffic]:
        count = self.options.traffic_requests

        def send(n: int, seconds: float) -> WrkResult:
            job = self.job(op, server.name, database, n + 5)
            result = run_wrk(
                server.url, job, seconds=seconds, connections=1, threads=1, max_responses=n
            )
            require_success(op, server, result)
            time.sleep(0.3)  # trailing after-commit work reaches the proxy
            return result

        # wrk runs for its whole duration (the thread stops after n responses).
        send(2, 1 if self.options.smoke else 3)  # warm-up: connections, statements, caches
        proxy.reset()
        one = send(1, 1)
        first: Traffic = proxy.reset()
        if count == 0:
            return first.round_trips / one.requests, first
        many = send(count, 2)
        counted: Traffic = proxy.reset()
        total = one.requests + many.requests
        return (first.round_trips + counted.round_trips) / total, first

    # --- phase 3: load ----------------------------------------------------------------

    def measure_load(self, work: list[tuple[Operation, Database]], servers: list[Server]) -> None:
        o = self.options
        for op, database in work:
            connections, threads = (1, 1) if op.one_client else (o.connections, o.threads)
            if o.warmup > 0:
                for server in servers:
                    self._load(op, server, database, o.warmup, connections, threads, warmup=True)
            for round_no in range(1, o.rounds + 1):
                for server in servers:
                    result, cpu = self._load(op, server, database, o.seconds, connections, threads)
                    measured = self.results[op.name][server.name]
                    measured.runs.append(result)
                    measured.cpu_seconds.append(cpu)
                    say(
                        f"  {op.name:18} round {round_no} {server.name:8} "
                        f"{result.rate:8.1f} req/s  p50 {result.p50_ms:7.2f} ms  "
                        f"p99 {result.p99_ms:7.2f} ms  "
                        f"CPU {1000 * cpu / max(1, result.requests):6.2f} ms/req"
                        + (
                            f"  FAILED {result.failures}: {result.first_failure[:120]}"
                            if result.failures
                            else ""
                        )
                    )

    def _load(
        self,
        op: Operation,
        server: Server,
        database: Database,
        seconds: float,
        connections: int,
        threads: int,
        *,
        warmup: bool = False,
    ) -> tuple[WrkResult, float]:
        # Vouchers: more than the fastest server redeems with one client in the time.
        job = self.job(op, server.name, database, int(seconds * 1200) + 200)
        before = server.cpu_seconds()
        result = run_wrk(server.url, job, seconds=seconds, connections=connections, threads=threads)
        cpu = server.cpu_seconds() - before
        # Under load a failure is a result (a 504 past the request time budget): counted and
        # shown in the table. A round without one answer cannot be measured. (The round
        # trips phase, one client, stops on any failure: there it means a broken harness.)
        if result.requests == 0 and not warmup:
            require_success(op, server, result)
        return result, cpu

    # --- the SQL the baseline mirrors ---------------------------------------------------

    def print_sql(self) -> None:
        """Each server's statements for one request of each operation (Happy's outbox
        poller left out), whether they match, and with ``--as-python`` Happy's request
        statements as constants for ``bench/baseline_sql.py``."""
        for op in self.options.operations:
            happy, baseline = (self.results[op.name][name] for name in SERVERS)
            for name in SERVERS:
                measured = self.results[op.name][name]
                print(f"\n-- {op.name}: {name}, {measured.round_trips:.1f} round trips")
                for statement in measured.statements:
                    print(f"{' '.join(statement.split())};")
            print(f"\n-- {op.name}: same SQL: {same_sql(happy.statements, baseline.statements)}")
            if self.options.as_python:
                print(f"\n# {op.name}: Happy's statements up to its COMMIT")
                for n, statement in enumerate(_request_part(happy.statements), 1):
                    print(python_constant(f"S{n}", statement))


def require_success(
    op: Operation, server: Server, result: WrkResult, *, answered: bool = True
) -> None:
    """Stop the run on any failed request, or (``answered``) when none was answered."""
    bad = result.failures + result.socket_errors + result.timeouts
    if bad == 0 and (result.requests > 0 or not answered):
        return
    log = server.log.read_text(errors="replace").splitlines()[-15:]
    what = (
        f"{bad} of {result.requests} requests failed "
        f"(first: {result.first_failure or 'socket errors or timeouts'})"
        if bad
        else "no request was answered in the round (a server this slow needs longer rounds)"
    )
    raise SystemExit(
        f"{op.name} against {server.name}: {what}; the end of its log:\n" + "\n".join(log)
    )


_STARTED = time.monotonic()


def say(text: str) -> None:
    print(f"[{time.monotonic() - _STARTED:5.0f} s] {text}", flush=True)


# --- reporting ----------------------------------------------------------------------------


def _normalised(statement: str) -> str:
    return " ".join(statement.split()).rstrip(";").strip()


# SQLAlchemy's asyncpg dialect names the isolation level in BEGIN only on a connection that
# was reset after an AUTOCOMMIT checkout (Happy's single-statement reads), not on a fresh
# one: the same transaction, PostgreSQL's default level, one round trip either way.
SAME_BEGIN = {"BEGIN ISOLATION LEVEL READ COMMITTED": "BEGIN"}


POLLER_LOCK = "SELECT pg_advisory_xact_lock($1)"  # Happy's outbox poller (app/events)


def _poller_indices(traffic: Traffic) -> set[int]:
    """Where Happy's outbox poller is in ``traffic``: every transaction (``BEGIN`` ...
    ``COMMIT``/``ROLLBACK`` on one connection) that takes the poller's advisory lock. It
    runs on its own schedule, not for the request, and may interleave with it."""
    norm = [_normalised(s) for s in traffic.statements]
    connections = traffic.connections or [0] * len(norm)
    dropped: set[int] = set()
    open_: dict[int, list[int]] = {}
    for i, (text, connection) in enumerate(zip(norm, connections, strict=True)):
        if text.startswith("BEGIN"):
            open_[connection] = [i]
        elif connection in open_:
            open_[connection].append(i)
            if text in ("COMMIT", "ROLLBACK"):
                members = open_.pop(connection)
                if any(norm[j] == POLLER_LOCK for j in members):
                    dropped.update(members)
    return dropped


def without_poller(traffic: Traffic) -> list[str]:
    """The statements less Happy's outbox poller (:func:`_poller_indices`)."""
    dropped = _poller_indices(traffic)
    return [s for i, s in enumerate(traffic.statements) if i not in dropped]


def python_constant(name: str, statement: str, width: int = 92) -> str:
    """``NAME = ("...")``: a statement as a constant for ``bench/baseline_sql.py``."""
    text = _normalised(statement)
    chunks = textwrap.wrap(
        text, width - 6, drop_whitespace=False, replace_whitespace=False, break_on_hyphens=False
    )
    assert "".join(chunks) == text
    return f"{name} = (\n" + "".join(f"    {chunk!r}\n" for chunk in chunks) + ")"


def _request_part(statements: list[str]) -> list[str]:
    """One request's statements up to its unit of work's COMMIT (what follows is the
    after-commit delivery of the outbox)."""
    norm = [_normalised(s) for s in statements]
    return norm[: norm.index("COMMIT") + 1] if "COMMIT" in norm else norm


def request_round_trips(traffic: Traffic) -> int:
    """Round trips up to the request's COMMIT (the poller's transactions do not end it)."""
    dropped = _poller_indices(traffic)
    for i, statement in enumerate(traffic.statements):
        if i not in dropped and _normalised(statement) == "COMMIT":
            return traffic.marks[i]
    return traffic.round_trips


def comparable(statements: list[str]) -> Counter[str]:
    """The request's statements as a multiset (concurrent read sessions interleave), less
    the pool's pre-pings (an empty statement in a BEGIN ... ROLLBACK of its own)."""
    part = Counter(SAME_BEGIN.get(s, s) for s in _request_part(statements))
    pings = part.pop("", 0)
    part["BEGIN"] -= pings
    part["ROLLBACK"] -= pings
    return +part


def same_sql(happy: list[str], baseline: list[str]) -> str:
    h, b = comparable(happy), comparable(baseline)
    if h == b:
        return "yes"
    missing = list((h - b).elements())
    extra = list((b - h).elements())
    parts = []
    if missing:
        parts.append(f"baseline lacks {len(missing)}: {missing[0][:60]}...")
    if extra:
        parts.append(f"baseline adds {len(extra)}: {extra[0][:60]}...")
    return "no (" + "; ".join(parts) + ")"


def pings(statements: list[str]) -> int:
    return Counter(_request_part(statements)).get("", 0)


def round_trips_cell(measured: Measured) -> str:
    if measured.request_round_trips is None or measured.round_trips is None:
        return "?"
    after = measured.round_trips - measured.request_round_trips
    cell = str(measured.request_round_trips)
    if after >= 0.5:
        cell += f" (+{after:.0f} after commit)"
    return cell


def sql_mismatches(bench: Bench) -> list[str]:
    """The operations whose baseline did not send Happy's SQL (less what is left out by
    design: pre-pings, the outbox poller, the delivery after a receipt's commit)."""
    return [
        op.name
        for op in bench.options.operations
        if same_sql(
            bench.results[op.name]["Happy"].statements,
            bench.results[op.name]["baseline"].statements,
        )
        != "yes"
    ]


def mismatch_warning(bench: Bench) -> str:
    names = sql_mismatches(bench)
    if not names:
        return ""
    return (
        f"**WARNING: the baseline does not send Happy's SQL for: {', '.join(names)}; "
        "its ratio is not comparable.** Refresh bench/baseline_sql.py and bench/baseline.py "
        "(the steps are at the top of bench/baseline_sql.py)."
    )


def table(bench: Bench) -> str:
    rows = [
        "| operation | Happy req/s | p50 / p99 ms | baseline req/s | p50 / p99 ms | ratio "
        "| server CPU ms/req (Happy / baseline) | DB round trips/req (Happy / baseline) "
        "| same SQL | failed requests (Happy / baseline) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for op in bench.options.operations:
        h, b = bench.results[op.name]["Happy"], bench.results[op.name]["baseline"]
        ratio = h.rate / b.rate if b.rate else 0.0
        rows.append(
            f"| {op.label} | {h.rate:,.0f} | {h.p50:.1f} / {h.p99:.1f} | {b.rate:,.0f} "
            f"| {b.p50:.1f} / {b.p99:.1f} | {ratio:.2f} | {h.cpu_ms:.2f} / {b.cpu_ms:.2f} "
            f"| {round_trips_cell(h)} / {round_trips_cell(b)} "
            f"| {same_sql(h.statements, b.statements)} | {h.failures} / {b.failures} |"
        )
    return "\n".join(rows)


@dataclass(frozen=True)
class Target:
    operation: str
    what: str
    limit: float
    at_least: bool  # True: the value must be >= limit


TARGETS = (
    Target("me_balance", "ratio", 0.5, True),
    Target("submit_receipt", "ratio", 0.5, True),
    Target("me_balance", "cpu_ms", 1.2, False),
    Target("submit_receipt", "cpu_ms", 5.0, False),
    Target("me_balance", "round_trips", 2, False),
    Target("submit_receipt", "round_trips", 10, False),
    Target("redeem_voucher", "p99", 25.0, False),
    Target("me_receipts", "cpu_ms", 8.0, False),
)
TARGET_WORDS = {
    "ratio": "throughput ratio (Happy / baseline)",
    "cpu_ms": "server CPU ms per request",
    "round_trips": "database round trips per request (before the response's commit)",
    "p99": "p99 ms",
}


def targets(bench: Bench) -> str:
    mismatched = set(sql_mismatches(bench))
    lines = []
    for t in TARGETS:
        if t.operation not in bench.results:
            continue
        h, b = bench.results[t.operation]["Happy"], bench.results[t.operation]["baseline"]
        value = {
            "ratio": h.rate / b.rate if b.rate else 0.0,
            "cpu_ms": h.cpu_ms,
            "round_trips": float(h.request_round_trips or 0),
            "p99": h.p99,
        }[t.what]
        ok = value >= t.limit if t.at_least else value <= t.limit
        sign = ">=" if t.at_least else "<="
        verdict = "met" if ok else f"MISSED by {abs(value - t.limit) / t.limit:.0%}"
        if t.what == "ratio" and t.operation in mismatched:
            verdict = "NOT COMPARABLE (the baseline does not send Happy's SQL)"
        lines.append(
            f"- {BY_NAME[t.operation].label}: {TARGET_WORDS[t.what]} {value:.2f} "
            f"(target {sign} {t.limit:g}): {verdict}"
        )
    return "\n".join(lines)


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    pg = asyncio.run(_pg_version())
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    wrk_version = (wrk.stdout or wrk.stderr).split("[")[0].strip() or "wrk"
    loops = ", ".join(
        f"{name} {'yes' if _importable(name) else 'no'}" for name in ("uvloop", "httptools")
    )
    return (
        f"{os.cpu_count()} CPUs ({model}), {platform.machine()}, Python "
        f"{platform.python_version()}, PostgreSQL {pg}, {wrk_version}; {loops}"
    )


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


async def _pg_version() -> str:
    import asyncpg

    connection = await asyncpg.connect(fixtures.dsn("postgres"))
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return head + (" (with uncommitted changes)" if dirty else "")


def report(bench: Bench, started: datetime, load_before: float) -> str:
    o = bench.options
    big = bench.databases.get("big")
    seed = (
        f"; big database: {o.big_members:,} members, {o.big_receipts:,} receipts with 3 lines "
        f"each, seeded in {big.seed_seconds:.1f} s"
        if big and big.seed_seconds is not None
        else ""
    )
    return "\n".join(
        [
            f"### {started:%Y-%m-%d %H:%M} UTC, commit {commit()}",
            "",
            f"Machine: {machine()}. Load average before/after: {load_before:.1f} / "
            f"{os.getloadavg()[0]:.1f}.",
            f"Run: `python -m bench.run --seconds {o.seconds:g} --connections {o.connections} "
            f"--rounds {o.rounds} --workers {o.workers}` ({o.rounds} alternating rounds of "
            f"{o.seconds:g} s per operation and server after a {o.warmup:g} s warm-up; "
            f"redeemVoucher with one client){seed}.",
            "",
            *([warning, ""] if (warning := mismatch_warning(bench)) else []),
            table(bench),
            "",
            "Issue 15 targets:",
            "",
            targets(bench),
            "",
        ]
    )


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="per round (%(default)s)")
    parser.add_argument("--connections", type=int, default=16, help="wrk -c (%(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t (%(default)s)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per server (%(default)s)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (%(default)s)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds, unrecorded")
    parser.add_argument(
        "--members",
        type=int,
        default=200,
        help="member pool (%(default)s; enough that no member reaches Happy+ during a run, "
        "which would change Happy's receipt path)",
    )
    parser.add_argument("--big-members", type=int, default=200_000)
    parser.add_argument("--big-receipts", type=int, default=2_000_000)
    parser.add_argument("--no-big", action="store_true", help="skip the big database")
    parser.add_argument(
        "--only", default="", help="comma-separated operations: " + ", ".join(BY_NAME)
    )
    parser.add_argument("--no-record", action="store_true", help="do not append RESULTS.md")
    parser.add_argument(
        "--smoke", action="store_true", help="CI: seconds per operation, tiny big database"
    )
    parser.add_argument(
        "--capture-sql",
        action="store_true",
        help="only print the SQL each server sends per operation (for bench/baseline_sql.py)",
    )
    parser.add_argument(
        "--as-python",
        action="store_true",
        help="with --capture-sql: also print Happy's statements as Python constants",
    )
    parser.add_argument(
        "--allow-sql-mismatch",
        action="store_true",
        help="report (and record) even when the baseline does not send Happy's SQL for some "
        "operation; without it such a run exits with status 1 and records nothing",
    )
    args = parser.parse_args(argv)
    operations: tuple[Operation, ...] = OPERATIONS
    if args.only:
        unknown = set(args.only.split(",")) - set(BY_NAME)
        if unknown:
            parser.error(f"unknown operations: {', '.join(sorted(unknown))}")
        operations = tuple(op for op in OPERATIONS if op.name in args.only.split(","))
    if args.no_big:
        operations = tuple(op for op in operations if op.database != "big")
    if args.smoke:
        return Options(
            seconds=1,
            connections=2,
            threads=1,
            rounds=1,
            workers=args.workers,
            warmup=0,
            members=8,
            big_members=500,
            big_receipts=5_000,
            operations=operations,
            record=False,
            smoke=True,
            traffic_requests=0,
            capture_sql=False,
            allow_sql_mismatch=args.allow_sql_mismatch,
        )
    return Options(
        seconds=args.seconds,
        connections=args.connections,
        threads=args.threads,
        rounds=args.rounds,
        workers=args.workers,
        warmup=args.warmup,
        members=args.members,
        big_members=args.big_members,
        big_receipts=args.big_receipts,
        operations=operations,
        record=not args.no_record and not args.capture_sql,
        smoke=False,
        traffic_requests=20,
        capture_sql=args.capture_sql,
        allow_sql_mismatch=args.allow_sql_mismatch,
        as_python=args.as_python,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    check_wrk()
    started = datetime.now(UTC)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="happy-bench-") as folder:
        bench = Bench(options, Path(folder))
        try:
            bench.prepare()
            bench.measure()
            if options.capture_sql:
                bench.print_sql()
                return 0
            bench.check_ledger()
        finally:
            bench.drop()
    text = report(bench, started, load_before)
    print()
    print(text)
    for op in options.operations:
        h, b = bench.results[op.name]["Happy"], bench.results[op.name]["baseline"]
        print(f"{op.name}: same SQL: {same_sql(h.statements, b.statements)}")
    mismatched = sql_mismatches(bench)
    if mismatched and not options.allow_sql_mismatch:
        say(
            f"FAILED: the baseline does not send Happy's SQL for {', '.join(mismatched)} "
            "(nothing recorded; --allow-sql-mismatch to report anyway)"
        )
        return 1
    if options.record:
        with RESULTS.open("a") as results:
            results.write("\n" + text)
        say(f"appended to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
