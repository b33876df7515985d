"""Database round trips of the hot paths (member and partner doors), counted through the
door.

Every statement the server sends is counted with SQLAlchemy's ``before_cursor_execute``;
BEGIN, COMMIT and ROLLBACK where the driver sends them (not on a connection in autocommit,
where asyncpg sends none); and the pool's pre-ping (``SELECT`` ";" inside BEGIN/ROLLBACK
with asyncpg: three round trips per checkout) separately, since the engine's pool settings
are the "scale" part's (issue 15). On SQLite a BEGIN is local and costs no round trip; the
statement counts are checked there too.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection

from app import clock
from app.db import Database
from app.events.delivery import BACKGROUND_TASK_NAME
from app.settings import Settings
from tests.conftest import ON_POSTGRES, TEST_DATABASE_PGBOUNCER
from tests.helpers import Api
from tests.pos.conftest import Member, Pos, claim, give_points, receipt

# Counts for a direct connection: behind PgBouncer in transaction mode every read runs in
# a transaction of its own by design (docs/scaling.md), so BEGIN/ROLLBACK pairs are added.
pytestmark = pytest.mark.skipif(
    TEST_DATABASE_PGBOUNCER,
    reason="round trips are counted on a direct connection (PgBouncer adds BEGIN/ROLLBACK)",
)

_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@dataclass
class Trips:
    statements: list[str] = field(default_factory=list)
    transaction_control: list[str] = field(default_factory=list)
    pings: int = 0

    def reset(self) -> None:
        self.statements.clear()
        self.transaction_control.clear()
        self.pings = 0

    @property
    def without_pings(self) -> int:
        return len(self.statements) + len(self.transaction_control)


def _autocommit(conn: Connection) -> bool:
    return conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


def _in_background_delivery() -> bool:
    """The outbox's background delivery runs after the answer, not on the request's path
    (its statements are not the request's)."""
    task = asyncio.current_task()
    return task is not None and task.get_name() == BACKGROUND_TASK_NAME


@pytest.fixture(autouse=True)
async def background_delivery_finished(db: Database) -> AsyncIterator[None]:
    """Each test ends when the background delivery it started has (before the tables are
    emptied)."""
    yield
    running = [t for t in asyncio.all_tasks() if t.get_name() == BACKGROUND_TASK_NAME]
    if running:
        await asyncio.wait(running, timeout=30)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # As a server runs: the outbox is delivered after the answer, in the background.
    return dataclasses.replace(settings, outbox_deliver_inline=False)


@pytest.fixture
def trips(db: Database) -> Iterator[Trips]:
    found = Trips()
    engine = db.engine.sync_engine

    def on_statement(conn: Connection, _c: Any, statement: str, *_: Any) -> None:
        if _in_background_delivery():
            return
        if statement.strip().upper().startswith(_TRANSACTION_CONTROL):
            found.transaction_control.append(statement)  # SQLite's explicit BEGIN
        else:
            found.statements.append(statement)

    def on_control(name: str) -> Any:
        def listener(conn: Connection, *_: Any) -> None:
            if ON_POSTGRES and not _autocommit(conn) and not _in_background_delivery():
                found.transaction_control.append(name)

        return listener

    listeners = [
        ("before_cursor_execute", on_statement),
        ("begin", on_control("BEGIN")),
        ("commit", on_control("COMMIT")),
        ("rollback", on_control("ROLLBACK")),
    ]
    for name, fn in listeners:
        event.listen(engine, name, fn)
    dialect = engine.dialect
    original_ping = dialect.do_ping

    def counting_ping(dbapi_connection: Any) -> bool:
        found.pings += 1
        return bool(original_ping(dbapi_connection))

    dialect.do_ping = counting_ping  # type: ignore[method-assign]
    try:
        yield found
    finally:
        dialect.do_ping = original_ping  # type: ignore[method-assign]
        for name, fn in listeners:
            event.remove(engine, name, fn)


BALANCE = "{ me { balance { available } } }"
CARD_AND_ACTIVITY = (
    "{ me { phone card { number } balance { available pending lifetime } "
    "activity(first: 10) { edges { node { kind points balanceAfter } } } } }"
)


async def _me(api: Api, token: str, query: str) -> dict[str, Any]:
    body = await api.gql(query, token=token)
    assert "errors" not in body, body
    me: dict[str, Any] = body["data"]["me"]
    return me


async def test_me_balance_is_one_statement_without_a_transaction(
    api: Api, member: Member, trips: Trips
) -> None:
    await _me(api, member.token, BALANCE)  # warm: first requests build and prepare
    trips.reset()
    me = await _me(api, member.token, BALANCE)
    assert me["balance"]["available"] == 80  # the welcome bonus
    # The member, their points account and the session check: one statement.
    assert len(trips.statements) == 1, trips.statements
    if ON_POSTGRES:
        assert trips.transaction_control == []  # no BEGIN/ROLLBACK pair around a read
        assert trips.without_pings <= 2
        # The pool's pre-ping, while the engine has it (the "scale" part removes it), adds
        # three round trips per checkout: one checkout here.
        assert trips.pings <= 1, trips.pings


async def test_me_with_card_and_activity_costs_one_statement_per_part(
    api: Api, member: Member, trips: Trips
) -> None:
    await _me(api, member.token, CARD_AND_ACTIVITY)
    trips.reset()
    me = await _me(api, member.token, CARD_AND_ACTIVITY)
    assert me["card"]["number"] == member.card
    assert [e["node"]["kind"] for e in me["activity"]["edges"]] == ["WELCOME_BONUS"]
    # member+account+session, card, ledger page (its receipts: none to look up here)
    assert len(trips.statements) == 3, trips.statements
    if ON_POSTGRES:
        assert trips.transaction_control == [], trips.transaction_control


async def test_a_revoked_session_is_refused_by_the_same_one_statement(
    api: Api, member: Member, trips: Trips
) -> None:
    logout = await api.gql("mutation { logout { sessionsEnded } }", token=member.token)
    assert logout["data"]["logout"]["sessionsEnded"] == 1
    trips.reset()
    body = await api.gql(BALANCE, token=member.token)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert len(trips.statements) == 1


async def test_a_partner_request_authenticates_in_one_statement(
    spar: Pos, member: Member, trips: Trips, client: httpx.AsyncClient
) -> None:
    query = "{ store { code } }"
    first = await spar.gql(query)
    assert first["data"]["store"]["code"] == "SPAR-TIR-01", first
    trips.reset()
    again = await spar.gql(query)
    assert again["data"]["store"]["code"] == "SPAR-TIR-01"
    # The key with its store and partner, checked once for the gate and the context; then
    # the query's own read of the store's details.
    assert len(trips.statements) == 2, trips.statements
    key_lookup, store_read = trips.statements
    assert "partner_api_keys" in key_lookup and "JOIN partners" in key_lookup
    assert "partner_api_keys" not in store_read
    if ON_POSTGRES:
        assert trips.transaction_control == []


async def test_a_receipt_reads_the_earn_rules_once_per_process(
    spar: Pos, member: Member, trips: Trips
) -> None:
    first = await spar.submit(receipt("R-RT-1", member.card))
    assert first["__typename"] == "ReceiptAccepted", first
    trips.reset()
    second = await spar.submit(receipt("R-RT-2", member.card))
    assert second["pointsEarned"] == first["pointsEarned"]
    touched = " ".join(trips.statements)
    # Earn rates and modifiers and the programme's settings come from the cache.
    for table in ("earn_rates", "earn_modifiers", "FROM programmes"):
        assert table not in touched, [s for s in trips.statements if table in s]


async def test_a_receipt_with_a_card_and_three_lines_costs_ten_round_trips(
    spar: Pos, member: Member, trips: Trips
) -> None:
    first = await spar.submit(receipt("R-RT-W1", member.card))
    assert first["__typename"] == "ReceiptAccepted", first
    trips.reset()
    second = await spar.submit(receipt("R-RT-W2", member.card))
    assert second["__typename"] == "ReceiptAccepted", second
    assert second["balance"] == first["balance"] + second["pointsEarned"]
    statements = [" ".join(s.split()) for s in trips.statements]
    # The demo's fraud limits are on: their one counting upsert is there.
    assert sum("INSERT INTO fraud_counters" in s for s in statements) == 1, statements
    # No up-front look for a first answer; the member, their block and their offer facts
    # in one statement; the stored answer written by key (no read of the receipt).
    assert not any(s.startswith("SELECT receipts.") for s in statements), statements
    assert not any("FROM member_blocks WHERE" in s[:40] for s in statements), statements
    # BEGIN; key; member; offers; receipt; counters; [account, entry, lot]; passes;
    # [lines, answer, outbox row] (the writes nothing reads back, one statement at commit:
    # app/deferred.py); COMMIT. No tier check: the member's lifetime points (read under the
    # account's lock by the credit) are below the lowest tier threshold above the base.
    if ON_POSTGRES:
        assert trips.transaction_control == ["BEGIN", "COMMIT"]
        assert sum(s.startswith("WITH account AS (UPDATE points_accounts") for s in statements) == 1
        assert (
            sum(s.startswith("WITH deferred_0 AS (INSERT INTO receipt_lines") for s in statements)
            == 1
        )
        assert len(statements) == 8, statements
        assert trips.without_pings == 10
    else:
        assert len(statements) == 12, statements  # the ledger in three steps, 3 deferred


async def test_a_voucher_redemption_reads_the_voucher_back_from_its_update(
    spar: Pos, member: Member, api: Api, db: Database, trips: Trips
) -> None:
    await give_points(db, member.id, 10000, clock.now())
    codes = [v["code"] for v in (await claim(api, member, 1))["vouchers"]]
    codes += [v["code"] for v in (await claim(api, member, 1))["vouchers"]]
    warm = await spar.redeem(codes[0], "R-V-1")
    assert warm["__typename"] == "VoucherRedeemed", warm
    trips.reset()
    redeemed = await spar.redeem(codes[1], "R-V-2")
    assert redeemed["__typename"] == "VoucherRedeemed", redeemed
    statements = [" ".join(s.split()) for s in trips.statements]
    # No read of the voucher after its guarded UPDATE (it RETURNS the row).
    updates = [n for n, s in enumerate(statements) if s.startswith("UPDATE vouchers")]
    assert len(updates) == 1, statements
    assert not any(s.startswith("SELECT vouchers.") for s in statements[updates[0] :])
    # key; rate limit; voucher with its owner's block; the programme row as it is now (the
    # confirmation threshold and limits); rate of the day; update; counters; redemption row
    # (was 9: the voucher read again after the redemption row)
    assert len(statements) <= 8, "\n".join(s[:150] for s in statements)
    if ON_POSTGRES:
        assert trips.without_pings <= 10


RECEIPT_PAGE = """query($first: Int!) { me { receipts(first: $first) { edges { node {
  receiptId partner { code name } store { code city } breakdown { kind points }
  lines { lineNumber sku amount }
} } } } }"""
RECEIPT_PAGE_WITHOUT_LINES = (
    "query($first: Int!) { me { receipts(first: $first) "
    "{ edges { node { receiptId partner { code } store { code } } } } } }"
)


async def test_the_receipt_page_is_three_statements_whatever_its_size(
    api: Api, spar: Pos, member: Member, trips: Trips
) -> None:
    for i in range(6):
        accepted = await spar.submit(receipt(f"R-PAGE-{i}", member.card))
        assert accepted["__typename"] == "ReceiptAccepted", accepted

    async def page(first: int, query: str = RECEIPT_PAGE) -> list[dict[str, Any]]:
        trips.reset()
        body = await api.gql(query, {"first": first}, token=member.token)
        assert "errors" not in body, body
        edges: list[dict[str, Any]] = body["data"]["me"]["receipts"]["edges"]
        return edges

    one = await page(1)
    assert len(one) == 1
    small = len(trips.statements)
    every = await page(50)
    assert [e["node"]["receiptId"] for e in every] == [f"R-PAGE-{i}" for i in range(5, -1, -1)]
    node = every[0]["node"]
    assert node["partner"] == {"code": "SPAR", "name": "Spar"}
    assert node["store"] == {"code": "SPAR-TIR-01", "city": "Tirana"}
    assert [line["lineNumber"] for line in node["lines"]] == [1, 2, 3]
    # The member (with the session check), the page with partners and stores, the lines of
    # every receipt on it: the same three for 1 receipt or 6.
    assert len(trips.statements) == small == 3, trips.statements
    if ON_POSTGRES:
        assert trips.transaction_control == [], trips.transaction_control
    # Without lines in the query, no statement for them.
    assert len(await page(50, RECEIPT_PAGE_WITHOUT_LINES)) == 6
    assert len(trips.statements) == 2, trips.statements
    assert not any("receipt_lines" in s for s in trips.statements)


async def test_activity_reads_receipts_only_when_the_query_asks_for_them(
    api: Api, spar: Pos, member: Member, trips: Trips
) -> None:
    accepted = await spar.submit(receipt("R-ACT-1", member.card))
    assert accepted["__typename"] == "ReceiptAccepted", accepted
    plain = "{ me { activity(first: 5) { edges { node { kind points } } } } }"
    with_receipt = (
        "{ me { activity(first: 5) { edges { node { kind "
        "receipt { receiptId store { code } lines { sku } } } } } } }"
    )
    trips.reset()
    assert "errors" not in await api.gql(plain, token=member.token)
    assert not any("FROM receipts" in s for s in trips.statements), trips.statements
    trips.reset()
    body = await api.gql(with_receipt, token=member.token)
    kinds = {
        e["node"]["kind"]: e["node"]["receipt"] for e in body["data"]["me"]["activity"]["edges"]
    }
    assert kinds["WELCOME_BONUS"] is None
    earned = next(r for r in kinds.values() if r is not None)
    assert earned["receiptId"] == "R-ACT-1" and earned["store"] == {"code": "SPAR-TIR-01"}
    assert len(earned["lines"]) == 3
    # member, entries, their receipts (with partner and store), the receipts' lines
    assert len(trips.statements) == 4, trips.statements
