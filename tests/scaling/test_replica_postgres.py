"""On PostgreSQL: HAPPY_DATABASE_REPLICA_URL pointing at a second database with different
data; the member's receipt history comes from it, the caller and the balance from the
primary (docs/scaling.md)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import Database, create_database
from app.main import create_app
from app.migrations import upgrade
from app.settings import Settings
from tests.conftest import TEST_DATABASE_URL, requires_postgres, with_settings
from tests.helpers import Api, Outbox
from tests.pos.conftest import Member, Pos, demo, make_key, receipt, sign_up

HISTORY = """
query { me {
  balance { available }
  receipts(first: 10) { edges { node { receiptId } } }
} }"""


def _client(settings: Settings, database: Database) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(
        app=create_app(settings, database), client=("203.0.113.10", 50000)
    )
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@requires_postgres
async def test_receipt_history_is_read_from_the_replica_database(
    settings: Settings, db: Database, spar: Pos, member: Member
) -> None:
    assert (await spar.submit(receipt("PRIMARY-ONLY", member.card)))["__typename"] == (
        "ReceiptAccepted"
    )
    name = f"happy_replica_{secrets.token_hex(4)}"
    replica_url = TEST_DATABASE_URL.rsplit("/", 1)[0] + "/" + name
    admin = create_async_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        await asyncio.to_thread(upgrade, replica_url)
        # The "replica" gets data of its own through its doors: the same member (id 1 in
        # both fresh databases) with a receipt the primary never saw.
        replica_settings = with_settings(settings, database_url=replica_url)
        replica = create_database(replica_settings)
        try:
            await demo(replica)
            key = await make_key(replica, replica_settings, "SPAR-TIR-01")
            async with _client(replica_settings, replica) as client:
                twin = await sign_up(Api(client, Outbox(settings.sms_outbox)), replica)
                assert twin.id == member.id
                answer = await Pos(client, key).submit(receipt("REPLICA-ONLY", twin.card))
                assert answer["__typename"] == "ReceiptAccepted"
        finally:
            await replica.dispose()

        both = with_settings(settings, database_replica_url=replica_url)
        database = create_database(both)
        try:
            async with _client(both, database) as client:
                body: dict[str, Any] = await Api(client, Outbox(settings.sms_outbox)).gql(
                    HISTORY,
                    token=member.token,  # the session is checked on the primary
                )
        finally:
            await database.dispose()
        assert "errors" not in body, body
        me = body["data"]["me"]
        assert [e["node"]["receiptId"] for e in me["receipts"]["edges"]] == ["REPLICA-ONLY"]
        assert me["balance"]["available"] == 80 + 11  # the primary's ledger
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
