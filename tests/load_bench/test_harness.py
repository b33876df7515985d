"""The benchmark's own machinery: the counting proxy and the SQL comparison (bench/)."""

from __future__ import annotations

import struct
from urllib.parse import urlsplit

import asyncpg
import pytest

from bench.pgproxy import CountingProxy, Traffic, _Connection
from bench.run import comparable, request_round_trips, same_sql
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL

requires_postgres = pytest.mark.skipif(
    not ON_POSTGRES, reason="the proxy speaks PostgreSQL's wire protocol: set TEST_DATABASE_URL"
)


def cstr(text: str) -> bytes:
    return text.encode() + b"\0"


def test_the_proxy_counts_syncs_and_queries_and_names_the_statements() -> None:
    proxy = CountingProxy("127.0.0.1", 5432)
    connection = _Connection()
    conversation = [
        (b"P", cstr("s1") + cstr("SELECT $1::INTEGER") + struct.pack("!h", 0)),
        (b"D", b"S" + cstr("s1")),
        (b"S", b""),  # prepare: a round trip that executes nothing
        (b"B", cstr("") + cstr("s1") + b"\0\0\0\0\0\0"),
        (b"E", cstr("") + b"\0\0\0\0"),
        (b"S", b""),
        (b"Q", cstr("BEGIN;")),
        (b"B", cstr("") + cstr("s1") + b"\0\0\0\0\0\0"),
        (b"E", cstr("") + b"\0\0\0\0"),
        (b"B", cstr("") + cstr("s1") + b"\0\0\0\0\0\0"),  # executemany: one pipeline
        (b"E", cstr("") + b"\0\0\0\0"),
        (b"S", b""),
        (b"Q", cstr("COMMIT;")),
    ]
    for kind, body in conversation:
        proxy._observe(connection, kind, body)
    traffic = proxy.reset()
    assert traffic.round_trips == 5
    assert traffic.empty_round_trips == 1
    assert traffic.statements == [
        "SELECT $1::INTEGER",
        "BEGIN;",
        "SELECT $1::INTEGER",
        "SELECT $1::INTEGER",
        "COMMIT;",
    ]
    assert traffic.marks == [2, 3, 4, 4, 5]
    assert request_round_trips(traffic) == 5
    assert proxy.reset().round_trips == 0


HAPPY = [
    "BEGIN;",
    ";",  # the pool's pre-ping
    "ROLLBACK;",
    "BEGIN;",
    "SELECT a",
    "SELECT b",
    "COMMIT;",
    "BEGIN;",  # the outbox delivery after the commit
    "UPDATE outbox",
    "COMMIT;",
]


def test_the_comparison_leaves_out_pings_and_what_follows_the_commit() -> None:
    baseline = ["BEGIN;", "SELECT a", "SELECT b", "COMMIT;"]
    assert comparable(HAPPY) == comparable(baseline)
    assert same_sql(HAPPY, baseline) == "yes"
    assert same_sql(HAPPY, ["BEGIN;", "SELECT a", "COMMIT;"]).startswith("no (baseline lacks 1")
    assert "baseline adds 1" in same_sql(HAPPY, [*baseline[:3], "SELECT c", "COMMIT;"])
    traffic = Traffic(round_trips=10, statements=HAPPY, marks=list(range(1, 11)))
    assert request_round_trips(traffic) == 7


@requires_postgres
async def test_a_real_conversation_through_the_proxy() -> None:
    url = urlsplit(TEST_DATABASE_URL.replace("postgresql+asyncpg", "postgresql"))
    async with CountingProxy(url.hostname or "127.0.0.1", url.port or 5432) as proxy:
        dsn = f"postgresql://{url.username}@127.0.0.1:{proxy.port}{url.path}"
        connection = await asyncpg.connect(dsn)
        try:
            assert await connection.fetchval("SELECT $1::int + 1", 41) == 42  # prepared
            proxy.reset()
            async with connection.transaction():
                assert await connection.fetchval("SELECT $1::int + 1", 1) == 2
            traffic = proxy.reset()
        finally:
            await connection.close()
    assert traffic.statements == ["BEGIN;", "SELECT $1::int + 1", "COMMIT;"]
    assert traffic.round_trips == 3  # BEGIN, the cached statement's Bind/Execute/Sync, COMMIT
