"""Points activity names where the points came from: the receipt, its partner and store.

The microsite shows "Spar · Spar Kombinat, Tiranë" under each earning and under each
return's points taken back; these tests hold the member door to that.
"""

from __future__ import annotations

import httpx
from sqlalchemy import event

from app.db import Database
from app.settings import Settings
from tests.helpers import Api
from tests.pos.conftest import Pos, demo, make_key, receipt, sign_up

ACTIVITY = """
query($first: Int!, $after: String) {
  me { activity(first: $first, after: $after) {
    edges { node {
      kind points description
      receipt { id receiptId refundedAmount pointsReversed
                partner { code name } store { code name city } }
    } }
    pageInfo { hasNextPage endCursor }
  } }
}"""


async def _spar(db: Database, settings: Settings, client: httpx.AsyncClient) -> Pos:
    await demo(db)
    return Pos(client, await make_key(db, settings, "SPAR-TIR-01"))


async def test_earning_and_return_name_their_receipt_partner_and_store(
    db: Database, settings: Settings, client: httpx.AsyncClient, api: Api
) -> None:
    spar = await _spar(db, settings, client)
    member = await sign_up(api, db)
    accepted = await spar.submit(receipt("S-1", member.card))
    assert accepted["__typename"] == "ReceiptAccepted", accepted
    refunded = await spar.refund(receiptId="S-1", refundId="R-1")
    assert refunded["__typename"] == "ReceiptRefunded", refunded
    assert refunded["pointsReversed"] > 0

    body = await api.gql(ACTIVITY, {"first": 10}, token=member.token)
    assert "errors" not in body, body
    nodes = [e["node"] for e in body["data"]["me"]["activity"]["edges"]]
    assert [n["kind"] for n in nodes] == ["REVERSAL", "EARN", "WELCOME_BONUS"]
    reversal, earn, welcome = nodes
    assert welcome["receipt"] is None
    for entry in (earn, reversal):
        shown = entry["receipt"]
        assert shown["receiptId"] == "S-1"
        assert shown["partner"] == {"code": "SPAR", "name": "Spar"}
        assert shown["store"]["code"] == "SPAR-TIR-01"
        assert shown["store"]["name"] and shown["store"]["city"]
    # The return's entry links to the same receipt, which shows what was returned.
    assert reversal["receipt"]["id"] == earn["receipt"]["id"]
    assert reversal["points"] == -refunded["pointsReversed"]
    assert reversal["receipt"]["pointsReversed"] == refunded["pointsReversed"]
    assert reversal["receipt"]["refundedAmount"] == refunded["refundedAmount"] > 0

    # The link opens the receipt itself (me.receipt takes the same id).
    one = await api.gql(
        "query($id: ID!) { me { receipt(id: $id) { receiptId } } }",
        {"id": earn["receipt"]["id"]},
        token=member.token,
    )
    assert one["data"]["me"]["receipt"] == {"receiptId": "S-1"}


async def test_a_page_of_activity_loads_its_receipts_in_a_bounded_number_of_queries(
    db: Database, settings: Settings, client: httpx.AsyncClient, api: Api
) -> None:
    spar = await _spar(db, settings, client)
    member = await sign_up(api, db)
    for i in range(6):
        accepted = await spar.submit(receipt(f"Q-{i}", member.card))
        assert accepted["__typename"] == "ReceiptAccepted", accepted

    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        first = await api.gql(ACTIVITY, {"first": 3}, token=member.token)
        few = len(statements)
        statements.clear()
        every = await api.gql(ACTIVITY, {"first": 7}, token=member.token)
        many = len(statements)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert "errors" not in first and "errors" not in every
    shown = [e["node"]["receipt"] for e in every["data"]["me"]["activity"]["edges"]]
    assert [r["receiptId"] if r else None for r in shown] == [
        "Q-5",
        "Q-4",
        "Q-3",
        "Q-2",
        "Q-1",
        "Q-0",
        None,
    ]
    assert many == few, (few, many)  # no query per entry


async def test_another_members_receipt_is_never_shown(
    db: Database, settings: Settings, client: httpx.AsyncClient, api: Api
) -> None:
    """Only the member's own receipts are looked up, whatever an entry refers to."""
    from app.receipts import service as receipts
    from app.receipts.models import Receipt

    spar = await _spar(db, settings, client)
    alice = await sign_up(api, db, "+355691110001")
    bob = await sign_up(api, db, "+355691110002")
    await spar.submit(receipt("A-1", alice.card))
    async with db.read_session() as session:
        from sqlalchemy import select

        from app.ledger.models import PointsEntry

        entries = list(
            (
                await session.execute(
                    select(PointsEntry).where(PointsEntry.reference_type == "receipt")
                )
            ).scalars()
        )
        assert len(entries) == 1
        assert await receipts.receipts_of_entries(session, bob.id, entries) == {}
        found = await receipts.receipts_of_entries(session, alice.id, entries)
        assert isinstance(found[entries[0].id], Receipt)
