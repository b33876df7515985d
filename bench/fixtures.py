"""The benchmark's data: fresh PostgreSQL databases, the demo coalition, a partner key, a
pool of members with live sessions (and their access tokens), vouchers to redeem and the
big database of ``seed_big.sql``.

Everything Happy-specific is made the way an operator makes it (``happy db upgrade``,
``happy demo``, ``happy partner key create``) or through the member door
(requestOtp/verifyOtp); only what must be made in bulk (vouchers, the big database) is
written in SQL, into the same columns Happy's own code writes.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from app.keys import Keys
from app.rewards.codes import new_code
from app.settings import Settings
from auth.tokens import issue_access_token

ROOT = Path(__file__).resolve().parent.parent
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
STORE = "SPAR-TIR-01"  # grocery, ALL: brand and category rules apply (bench/wrk/*.lua)


def dsn(database: str, port: int = PG_PORT) -> str:
    return f"postgresql://{PG_USER}@{PG_HOST}:{port}/{database}"


def sqlalchemy_url(database: str, port: int = PG_PORT) -> str:
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{port}/{database}"


async def recreate_database(name: str, template: str | None = None) -> None:
    """Drop (forcing other sessions out) and create ``name`` (a copy of ``template``)."""
    for word in (name, template or "x"):
        if not re.fullmatch(r"[a-z0-9_]+", word):
            raise ValueError(f"unsafe database name {word!r}")
    admin = await asyncpg.connect(dsn("postgres"))
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        copy = f" TEMPLATE {template}" if template else ""
        await admin.execute(f"CREATE DATABASE {name}{copy}")
    finally:
        await admin.close()


async def drop_database(name: str) -> None:
    admin = await asyncpg.connect(dsn("postgres"))
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@dataclass(frozen=True)
class Secrets:
    jwt: str
    hash: str

    @classmethod
    def fresh(cls) -> Secrets:
        return cls(secrets.token_urlsafe(48), secrets.token_urlsafe(48))

    @property
    def keys(self) -> Keys:
        return Keys(jwt_secret=self.jwt.encode(), hash_secret=self.hash.encode())


def happy_env(
    database: str, work: Path, keys: Secrets, *, db_port: int = PG_PORT
) -> dict[str, str]:
    """The environment Happy runs under: production-like wherever the bench machine allows
    (see bench/README.md: HAPPY_ENV=production needs real wallet certificates)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAPPY_")}
    env.update(
        HAPPY_ENV="development",
        HAPPY_DATABASE_URL=sqlalchemy_url(database, db_port),
        HAPPY_JWT_SECRET=keys.jwt,
        HAPPY_HASH_SECRET=keys.hash,
        HAPPY_GRAPHIQL="0",
        HAPPY_LOG_LEVEL="INFO",  # one JSON access line per request, as in production
        HAPPY_SMS_OUTBOX=str(work / "sms.jsonl"),
        HAPPY_MESSAGES_OUTBOX_DIR=str(work / "outbox"),
        HAPPY_STORAGE_DIR=str(work / "files"),
        HAPPY_WALLET_DEV_DIR=str(work / "wallet"),
        HAPPY_APNS_OUTBOX=str(work / "apns.jsonl"),
        HAPPY_GOOGLE_OUTBOX=str(work / "google.jsonl"),
        # Sign-ups of the member pool all come from this one address.
        HAPPY_OTP_SENDS_PER_IP_PER_HOUR="1000000",
        HAPPY_OTP_VERIFIES_PER_IP_PER_HOUR="1000000",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def happy_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"happy {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare_programme(env: dict[str, str]) -> str:
    """Schema, demo coalition and a partner key for :data:`STORE`; returns the key."""
    happy_cli(env, "db", "upgrade")
    happy_cli(env, "demo")
    asyncio.run(_fraud_limits_out_of_reach(env))
    return happy_cli(env, "partner", "key", "create", "--store", STORE).strip().splitlines()[-1]


async def _fraud_limits_out_of_reach(env: dict[str, str]) -> None:
    """The demo's fraud limits (a normal demo day never reaches them) stay in force but so
    high that no run reaches them: a run sends thousands of receipts per card, store and
    hour, and a crossed limit adds alert writes (soft) or refusals (hard) to Happy's receipt
    path, which is not what the benchmark measures (the baseline mirrors the common path:
    every receipt still counts against every limit, one upsert)."""
    url = env["HAPPY_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("UPDATE fraud_limits SET value = 1000000000000")
    finally:
        await connection.close()


REQUEST_OTP = "mutation($p: String!) { requestOtp(phone: $p) { __typename } }"
VERIFY_OTP = (
    "mutation($p: String!, $c: String!) { verifyOtp(phone: $p, code: $c, channel: APP) "
    "{ __typename } }"
)


async def register_members(base_url: str, outbox: Path, count: int) -> None:
    """``count`` members signed up through the member door (welcome bonus, card, session)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for n in range(count):
            phone = f"+35569{2000000 + n}"
            await client.post("/graphql", json={"query": REQUEST_OTP, "variables": {"p": phone}})
            text = await asyncio.to_thread(outbox.read_text)
            line = [json.loads(x) for x in text.splitlines() if phone in x][-1]
            code = re.search(r"\b(\d{6})\b", line["text"])
            assert code is not None, line
            answer = await client.post(
                "/graphql",
                json={"query": VERIFY_OTP, "variables": {"p": phone, "c": code.group(1)}},
            )
            body = answer.json()
            if body.get("data", {}).get("verifyOtp", {}).get("__typename") != "Session":
                raise RuntimeError(f"sign-up of {phone} failed: {body}")


@dataclass(frozen=True)
class PoolMember:
    member_id: int
    public_id: str
    session_id: str
    card: str


async def ledger_mismatches(database: str, member_ids: list[int]) -> list[tuple[int, ...]]:
    """(member, cached balance, ledger sum, lots remaining) where they disagree."""
    connection = await asyncpg.connect(dsn(database))
    try:
        rows = await connection.fetch(
            """
            SELECT a.member_id, a.available,
                   (SELECT coalesce(sum(e.delta), 0) FROM points_entries e
                     WHERE e.member_id = a.member_id) AS ledger,
                   (SELECT coalesce(sum(l.remaining), 0) FROM points_lots l
                     WHERE l.member_id = a.member_id) AS lots
            FROM points_accounts a WHERE a.member_id = ANY($1::int[])
            """,
            member_ids,
        )
    finally:
        await connection.close()
    return [tuple(r) for r in rows if not r["available"] == r["ledger"] == r["lots"]]


SIGNED_UP = "+35569"  # register_members' numbers
SEEDED = "+35560"  # seed_big.sql's numbers (+3556 and 8 digits)


async def member_pool(database: str, limit: int, phones: str) -> list[PoolMember]:
    """Up to ``limit`` active members with a live session and an active card, whose phone
    numbers start with ``phones`` (:data:`SIGNED_UP` or :data:`SEEDED`)."""
    connection = await asyncpg.connect(dsn(database))
    try:
        rows = await connection.fetch(
            """
            SELECT DISTINCT ON (m.id) m.id, m.public_id, s.id AS session_id, c.number
            FROM members m
            JOIN member_sessions s ON s.member_id = m.id AND s.revoked_at IS NULL
            JOIN cards c ON c.member_id = m.id AND c.status = 'active'
            WHERE m.status = 'active' AND m.phone_e164 LIKE $2 || '%'
            ORDER BY m.id, s.created_at DESC
            LIMIT $1
            """,
            limit,
            phones,
        )
    finally:
        await connection.close()
    return [PoolMember(r["id"], r["public_id"], r["session_id"], r["number"]) for r in rows]


def access_tokens(pool: list[PoolMember], keys: Secrets) -> list[str]:
    """Fresh access tokens (15 minutes) for the pool, signed as Happy signs them."""
    settings = Settings()
    now = datetime.now(UTC)
    return [
        issue_access_token(
            keys.keys, settings, member_public_id=m.public_id, session_id=m.session_id, now=now
        )[0]
        for m in pool
    ]


async def issue_vouchers(database: str, pool: list[PoolMember], count: int) -> list[str]:
    """``count`` issued vouchers (4 EUR, valid anywhere for 90 days), spread over the pool's
    members, as the claim of a reward level writes them; their codes."""
    codes = [new_code() for _ in range(count)]
    now = datetime.now(UTC)
    rows = [
        (code, pool[n % len(pool)].member_id, 400, "EUR", "issued", now, now + timedelta(days=90))
        for n, code in enumerate(codes)
    ]
    connection = await asyncpg.connect(dsn(database))
    try:
        await connection.copy_records_to_table(
            "vouchers",
            records=rows,
            columns=[
                "code",
                "member_id",
                "value_amount",
                "currency",
                "status",
                "issued_at",
                "expires_at",
            ],
        )
    finally:
        await connection.close()
    return codes


async def seed_big(database: str, members: int, receipts: int, pool: int) -> float:
    """Run ``bench/seed_big.sql`` on ``database`` (already upgraded, with the demo); seconds."""
    sql = (ROOT / "bench" / "seed_big.sql").read_text()
    connection = await asyncpg.connect(dsn(database))
    started = time.perf_counter()
    try:
        await connection.execute(
            "SELECT set_config('bench.members', $1, false), "
            "set_config('bench.receipts', $2, false), set_config('bench.pool', $3, false)",
            str(members),
            str(receipts),
            str(pool),
        )
        await connection.execute(sql)
    finally:
        await connection.close()
    return time.perf_counter() - started


def wait_ready(base_url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base_url} did not answer /healthz within {timeout:.0f} s")


def register_members_sync(base_url: str, outbox: Path, count: int) -> None:
    asyncio.run(register_members(base_url, outbox, count))
