"""The member's receipts in the app, points expiry, and the operator's commands."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from app import clock
from app.db import Database
from tests.helpers import Api
from tests.pos.conftest import Member, Pos, happy, receipt, sign_up

RECEIPTS = """
query($first: Int!, $after: String, $partnerId: ID, $from: DateTime, $to: DateTime) {
  me { receipts(first: $first, after: $after, partnerId: $partnerId, from: $from, to: $to) {
    edges { cursor node {
      id receiptId issuedAt total { amount currency } pointsEarned pointsReversed
      partner { id code name } store { code name city }
      breakdown { kind points }
      lines { lineNumber sku name brand category quantity unitPrice amount points }
    } }
    pageInfo { hasNextPage endCursor }
  } }
}"""


ONE = "query($id: ID!) { me { receipt(id: $id) { receiptId lines { sku } } } }"


async def _submit_many(spar: Pos, member: Member, count: int, start: int = 0) -> None:
    base = clock.now() - timedelta(days=1)
    for i in range(start, start + count):
        issued = (base + timedelta(minutes=i)).isoformat()
        answer = await spar.submit(receipt(f"H-{i}", member.card, issued_at=issued))
        assert answer["__typename"] == "ReceiptAccepted", answer


async def test_receipts_page_filter_and_only_own(
    spar: Pos, neptun: Pos, member: Member, api: Api, db: Database
) -> None:
    await _submit_many(spar, member, 3)
    body = await api.gql(RECEIPTS, {"first": 2}, token=member.token)
    page = body["data"]["me"]["receipts"]
    assert [e["node"]["receiptId"] for e in page["edges"]] == ["H-2", "H-1"]
    node = page["edges"][0]["node"]
    assert node["partner"]["name"] == "Spar" and node["store"]["code"] == "SPAR-TIR-01"
    assert node["total"] == {"amount": 118000, "currency": "ALL"} and node["pointsEarned"] == 11
    assert node["lines"][0] == {
        "lineNumber": 1,
        "sku": "SP-MILK-1L",
        "name": "Qumësht Spar 1L",
        "brand": "Spar",
        "category": "dairy",
        "quantity": "3",
        "unitPrice": 15000,
        "amount": 45000,
        "points": 9,
    }
    assert page["pageInfo"]["hasNextPage"] is True
    nxt = await api.gql(
        RECEIPTS, {"first": 2, "after": page["pageInfo"]["endCursor"]}, token=member.token
    )
    rest = nxt["data"]["me"]["receipts"]
    assert [e["node"]["receiptId"] for e in rest["edges"]] == ["H-0"]
    assert rest["pageInfo"]["hasNextPage"] is False

    partner_id = node["partner"]["id"]
    await neptun.submit(
        receipt(
            "N-1",
            member.card,
            currency="EUR",
            lines=[{"sku": "TV", "name": "TV", "quantity": "1", "unitPrice": 1000, "amount": 1000}],
        )
    )
    only_spar = await api.gql(RECEIPTS, {"first": 10, "partnerId": partner_id}, token=member.token)
    assert len(only_spar["data"]["me"]["receipts"]["edges"]) == 3
    window = await api.gql(
        RECEIPTS,
        {
            "first": 10,
            "from": (clock.now() - timedelta(days=1, seconds=-30)).isoformat(),
            "to": clock.now().isoformat(),
        },
        token=member.token,
    )
    assert [e["node"]["receiptId"] for e in window["data"]["me"]["receipts"]["edges"]] == [
        "N-1",
        "H-2",
        "H-1",
    ]

    mine = await api.gql(ONE, {"id": node["id"]}, token=member.token)
    assert mine["data"]["me"]["receipt"]["receiptId"] == "H-2"
    other = await sign_up(api, db, "+355 68 765 4321")
    theirs = await api.gql(ONE, {"id": node["id"]}, token=other.token)
    assert theirs["data"]["me"]["receipt"] is None


async def test_a_page_costs_the_same_queries_for_5_or_50_receipts(
    spar: Pos, member: Member, api: Api, db: Database
) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    async def page_queries(first: int) -> int:
        statements.clear()
        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            body = await api.gql(RECEIPTS, {"first": first}, token=member.token)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        assert len(body["data"]["me"]["receipts"]["edges"]) == first
        return len(statements)

    await _submit_many(spar, member, 5)
    five = await page_queries(5)
    await _submit_many(spar, member, 45, start=5)
    fifty = await page_queries(50)
    assert fifty == five
    assert five <= 12


async def test_points_expire_oldest_first_and_twice_is_safe(
    spar: Pos,
    member: Member,
    api: Api,
    frozen_now: Any,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    start = frozen_now[0]
    await spar.submit(receipt("E-1", member.card))  # 11 points, expire start + 12 months
    frozen_now[0] = start + timedelta(days=340)
    token = (await api.sign_up(member.phone))["accessToken"]
    soon = await api.gql(
        "query { me { balance { available expiringSoon { points date } } } }", token=token
    )
    balance = soon["data"]["me"]["balance"]
    assert balance["available"] == 91
    # The welcome bonus (80) and the receipt (11) were earned at `start`: both within 30 days.
    assert balance["expiringSoon"]["points"] == 91
    assert balance["expiringSoon"]["date"] is not None

    frozen_now[0] = start + timedelta(days=367)
    assert await happy(["points", "expire"]) == 0
    assert "points expired: 91 from 1 member(s)" in capsys.readouterr().out
    assert await happy(["points", "expire"]) == 0
    assert "points expired: 0 from 0 member(s)" in capsys.readouterr().out
    token = (await api.sign_up(member.phone))["accessToken"]
    me = await api.me(token)
    assert me["balance"]["available"] == 0
    assert [e["node"]["kind"] for e in me["activity"]["edges"][:2]] == ["EXPIRY", "EXPIRY"]


async def test_operator_commands(
    coalition: None,
    member: Member,
    client: Any,
    cli_env: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    api: Api,
) -> None:
    assert await happy(["partner", "key", "create", "--store", "SPAR-TIR-01"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    till = Pos(client, key)
    assert (
        await happy(
            ["earn-rule", "set", "--partner", "SPAR", "--category", "bakery", "--multiplier", "300"]
        )
        == 0
    )
    assert await happy(["earn-rule", "list"]) == 0
    assert "SPAR\tcategory\tbakery\t300 %" in capsys.readouterr().out
    answer = await till.submit(receipt("C-1", member.card))
    # milk 9 + bread 2.3 x 3 = 6.9 -> 15.9 -> 15
    assert answer["pointsEarned"] == 15

    batch = tmp_path / "offline.jsonl"
    batch.write_text(
        json.dumps(receipt("C-2", member.card))
        + "\n"
        + json.dumps(receipt("C-1", member.card))
        + "\n"
    )
    assert await happy(["receipts", "import", str(batch), "--store", "SPAR-TIR-01"]) == 1
    out = capsys.readouterr()
    rows = [json.loads(line) for line in out.out.splitlines()]
    assert [(r["receiptId"], r["status"], r["reason"]) for r in rows] == [
        ("C-2", "accepted", None),
        ("C-1", "rejected", "RECEIPT_CONFLICT"),
    ]
    assert await happy(["reward-level", "list"]) == 0
    assert "5000 points\t6 x 4.00 EUR" in capsys.readouterr().out

    prefix = key.split("_")[1]
    assert await happy(["partner", "key", "revoke", prefix]) == 0
    body = await till.gql("query { store { code } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await happy(["partner", "key", "list"]) == 0
    assert "revoked" in capsys.readouterr().out


PARTNER_RECEIPTS = """
query($first: Int!, $after: String, $store: String, $from: DateTime) {
  receipts(first: $first, after: $after, store: $store, from: $from) {
    edges { node { receiptId store { code } lines { sku } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_partner_lists_its_receipts_for_reconciliation(
    spar: Pos, neptun: Pos, member: Member, db: Database, settings: Any, client: Any
) -> None:
    from tests.pos.conftest import make_key

    other_store = Pos(client, await make_key(db, settings, "SPAR-TIR-02"))
    await _submit_many(spar, member, 3)
    await other_store.submit(receipt("T2-1", member.card))
    await neptun.submit(
        receipt(
            "N-1",
            member.card,
            currency="EUR",
            lines=[{"sku": "TV", "name": "TV", "quantity": "1", "unitPrice": 1000, "amount": 1000}],
        )
    )
    body = await spar.gql(PARTNER_RECEIPTS, {"first": 3})
    page = body["data"]["receipts"]
    assert [e["node"]["receiptId"] for e in page["edges"]] == ["T2-1", "H-2", "H-1"]
    rest = await spar.gql(PARTNER_RECEIPTS, {"first": 3, "after": page["pageInfo"]["endCursor"]})
    assert [e["node"]["receiptId"] for e in rest["data"]["receipts"]["edges"]] == ["H-0"]
    one_store = await spar.gql(PARTNER_RECEIPTS, {"first": 10, "store": "SPAR-TIR-02"})
    assert [e["node"]["store"]["code"] for e in one_store["data"]["receipts"]["edges"]] == [
        "SPAR-TIR-02"
    ]
    theirs = await neptun.gql(PARTNER_RECEIPTS, {"first": 10})
    assert [e["node"]["receiptId"] for e in theirs["data"]["receipts"]["edges"]] == ["N-1"]


async def test_bad_page_arguments_are_readable_errors(spar: Pos, member: Member, api: Api) -> None:
    for variables in ({"first": 0}, {"first": 101}, {"first": 5, "after": "garbage!"}):
        body = await spar.gql(PARTNER_RECEIPTS, variables)
        error = body["errors"][0]
        assert error["extensions"]["code"] == "INVALID_INPUT", body
        assert error["extensions"]["field"] in {"first", "after"}
    body = await api.gql(RECEIPTS, {"first": 5, "partnerId": "bm9wZQ"}, token=member.token)
    assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "id"}


async def test_dates_without_a_time_zone_are_readable_errors(
    spar: Pos, member: Member, api: Api
) -> None:
    from graphql_schema.pagination import encode_cursor

    await spar.submit(receipt("Z-1", member.card))
    naive = "2026-01-01T00:00:00"
    naive_cursor = encode_cursor(naive, 1)
    partner_query = PARTNER_RECEIPTS.replace("$from: DateTime)", "$from: DateTime, $to: DateTime)")
    partner_query = partner_query.replace("from: $from)", "from: $from, to: $to)")
    for name, variables in (
        ("from", {"first": 5, "from": naive}),
        ("to", {"first": 5, "to": naive}),
        ("after", {"first": 5, "after": naive_cursor}),
    ):
        for body in (
            await spar.gql(partner_query, variables),
            await api.gql(RECEIPTS, variables, token=member.token),
        ):
            assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": name}, body


async def test_spending_and_expiry_take_the_oldest_points_first(
    spar: Pos,
    member: Member,
    api: Api,
    db: Database,
    frozen_now: Any,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.pos.conftest import give_points

    start = frozen_now[0]
    await spar.submit(receipt("O-1", member.card))  # 80 welcome + 11, both from `start`
    frozen_now[0] = start + timedelta(days=60)
    await spar.submit(receipt("O-2", member.card))  # 11 more, expire 60 days later
    await give_points(db, member.id, -50, frozen_now[0])  # spends the welcome lot first
    frozen_now[0] = start + timedelta(days=367)
    assert await happy(["points", "expire"]) == 0
    # Left of the old lots: 30 of the welcome bonus + 11 of O-1; O-2 is still valid.
    assert "points expired: 41 from 1 member(s)" in capsys.readouterr().out
    token = (await api.sign_up(member.phone))["accessToken"]
    body = await api.gql(
        "query { me { balance { available expiringSoon { points date } } } }", token=token
    )
    balance = body["data"]["me"]["balance"]
    assert balance["available"] == 11
    assert balance["expiringSoon"]["points"] == 0  # O-2 expires in ~58 days
    frozen_now[0] = start + timedelta(days=400)
    token = (await api.sign_up(member.phone))["accessToken"]
    body = await api.gql("query { me { balance { expiringSoon { points date } } } }", token=token)
    soon = body["data"]["me"]["balance"]["expiringSoon"]
    assert soon["points"] == 11
    from zoneinfo import ZoneInfo

    from dateutil.relativedelta import relativedelta

    expires = start + timedelta(days=60) + relativedelta(months=12)
    assert soon["date"] == expires.astimezone(ZoneInfo("Europe/Tirane")).date().isoformat()
