"""Issue 16.3: bad paging arguments and unclean text get INVALID_INPUT, on every door."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from app.errors import InvalidInput
from app.text import is_clean_text, require_clean_text
from graphql_schema.pagination import encode_cursor, page_arguments, row_id_key
from tests.helpers import Api
from tests.pos.conftest import IMPORT, Member, Pos, receipt


def forged(keys: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(keys).encode()).decode().rstrip("=")


BAD_FIRST = [0, -1, 101, 2**31 - 1]
BAD_AFTER = [
    "!!!not base64!!!",
    "é",
    forged({"id": 1}),
    forged([]),
    forged(["x"]),
    forged([1.5e300]),
    forged([10**30]),
    forged([True]),
    forged([-1]),
    base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode(),
    base64.urlsafe_b64encode(b"[1e400]").decode(),
]
BAD_RECEIPT_AFTER = [
    *BAD_AFTER,
    forged(["2025-01-01T00:00:00", 1]),  # no time zone
    forged(["0001-01-01T00:00:00+05:00", 1]),  # before year 1 in UTC
    forged(["2025-01-01T00:00:00+00:00", "x"]),
    forged([1, 2]),
]

ACTIVITY = "query($first: Int!, $after: String) { me { activity(first: $first, after: $after) { edges { cursor } } } }"
RECEIPTS = "query($first: Int!, $after: String) { me { receipts(first: $first, after: $after) { edges { cursor } } } }"
PARTNER_RECEIPTS = "query($first: Int!, $after: String) { receipts(first: $first, after: $after) { edges { cursor } } }"


def _invalid(body: dict[str, Any], field: str) -> None:
    assert body.get("data") is None, body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INVALID_INPUT", body
    assert error["extensions"]["field"] == field, body
    assert "requestId" not in error["extensions"]  # not a masked internal error


@pytest.mark.parametrize("query", [ACTIVITY, RECEIPTS], ids=["activity", "receipts"])
@pytest.mark.parametrize("first", BAD_FIRST)
async def test_bad_first_on_member_connections(
    api: Api, member: Member, query: str, first: int
) -> None:
    _invalid(await api.gql(query, {"first": first}, token=member.token), "first")


@pytest.mark.parametrize("after", BAD_AFTER)
async def test_bad_after_on_activity(api: Api, member: Member, after: str) -> None:
    _invalid(await api.gql(ACTIVITY, {"first": 5, "after": after}, token=member.token), "after")


@pytest.mark.parametrize("after", BAD_RECEIPT_AFTER)
async def test_bad_after_on_receipts(api: Api, member: Member, after: str) -> None:
    body = await api.gql(RECEIPTS, {"first": 5, "after": after}, token=member.token)
    _invalid(body, "after")


@pytest.mark.parametrize("after", BAD_RECEIPT_AFTER[:6])
async def test_bad_paging_on_partner_receipts(spar: Pos, after: str) -> None:
    _invalid(await spar.gql(PARTNER_RECEIPTS, {"first": 5, "after": after}), "after")
    _invalid(await spar.gql(PARTNER_RECEIPTS, {"first": 101}), "first")


async def test_activity_pages_with_its_own_cursors(api: Api, member: Member) -> None:
    first = await api.gql(ACTIVITY, {"first": 1}, token=member.token)
    edges = first["data"]["me"]["activity"]["edges"]
    assert len(edges) == 1  # the welcome bonus
    after = await api.gql(ACTIVITY, {"first": 1, "after": edges[0]["cursor"]}, token=member.token)
    assert after["data"]["me"]["activity"]["edges"] == []


def test_page_arguments_unit() -> None:
    assert page_arguments(None, None, lambda k: k) == (20, None)
    assert page_arguments(3, encode_cursor(7), lambda k: row_id_key(k[0])) == (3, 7)
    for first in BAD_FIRST:
        with pytest.raises(InvalidInput) as caught:
            page_arguments(first, None, lambda k: k)
        assert caught.value.field == "first"
    for after in BAD_AFTER[:-2]:
        with pytest.raises(InvalidInput) as caught:
            page_arguments(5, after, lambda k: row_id_key(k[0]))
        assert caught.value.field == "after"


# --- text ---------------------------------------------------------------------------

UNCLEAN = ["a\x00b", "\ud800", "x\udfffy"]


def test_clean_text_unit() -> None:
    assert is_clean_text("Ëndërr 🙂 <ok>")
    for text in UNCLEAN:
        assert not is_clean_text(text)
        with pytest.raises(InvalidInput) as caught:
            require_clean_text(text, "firstName")
        assert caught.value.field == "firstName"


UPDATE = """mutation($input: ProfileInput!) { updateProfile(input: $input) {
  __typename ... on Error { code field } } }"""


async def _raw(client: httpx.AsyncClient, path: str, body: str, token: str | None = None) -> Any:
    """Post a JSON text as is: ``json=`` would refuse to encode a lone surrogate."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await client.post(path, content=body.encode(), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("escaped", ["a\\u0000b", "\\ud800", "x\\udfffy"])
async def test_unclean_first_name_refused(
    client: httpx.AsyncClient, member: Member, api: Api, escaped: str
) -> None:
    variables = '{"input": {"firstName": "' + escaped + '"}}'
    body = '{"query": ' + json.dumps(UPDATE) + ', "variables": ' + variables + "}"
    answer = await _raw(client, "/graphql", body, member.token)
    _invalid(answer, "input.firstName")
    me = await api.me(member.token)
    assert me["firstName"] is None


async def test_unclean_literal_refused(api: Api, member: Member) -> None:
    query = 'mutation { updateProfile(input: {firstName: "a\\u0000b"}) { __typename } }'
    _invalid(await api.gql(query, token=member.token), "input.firstName")


async def test_service_refuses_unclean_profile_text(db: Any, member: Member) -> None:
    """The rule lives in the service too (the CLI and other doors call it)."""
    from app import clock
    from app.members import service as members

    with pytest.raises(InvalidInput) as caught:
        async with db.unit_of_work() as session:
            await members.update_profile(
                session, member_id=member.id, changes={"city": "Tiran\x00ë"}, now=clock.now()
            )
    assert caught.value.field == "city"


SUBMIT_TEXT = """mutation($input: ReceiptInput!) { submitReceipt(input: $input) {
  __typename ... on Error { code field } } }"""
REFUND_TEXT = """mutation($input: RefundInput!) { refundReceipt(input: $input) {
  __typename ... on Error { code field } } }"""


@pytest.mark.parametrize("escaped", ["R\\u00001", "R\\ud8001"])
async def test_unclean_receipt_texts_refused(
    client: httpx.AsyncClient, spar: Pos, member: Member, escaped: str
) -> None:
    headers = {"Authorization": f"Bearer {spar.key}", "Content-Type": "application/json"}
    good = receipt("R-1", member.card)
    submit = json.dumps({"query": SUBMIT_TEXT, "variables": {"input": good}})
    submit = submit.replace('"R-1"', f'"{escaped}"')
    response = await client.post("/partner/graphql", content=submit.encode(), headers=headers)
    _invalid(response.json(), "input.receiptId")
    refund = json.dumps(
        {"query": REFUND_TEXT, "variables": {"input": {"receiptId": "R-1", "refundId": "F"}}}
    ).replace('"R-1"', f'"{escaped}"')
    response = await client.post("/partner/graphql", content=refund.encode(), headers=headers)
    _invalid(response.json(), "input.receiptId")


async def test_partner_receipt_lookup_refuses_nul(spar: Pos) -> None:
    body = await spar.gql('query { receipt(receiptId: "a\\u0000") { receiptId } }')
    _invalid(body, "receiptId")


async def test_import_line_with_unclean_text_is_rejected_alone(spar: Pos, member: Member) -> None:
    good = json.dumps(receipt("B-1", member.card))
    nul_id = json.dumps(receipt("B-2", member.card)).replace('"B-2"', '"B\\u0000-2"')
    surrogate_name = json.dumps(receipt("B-3", member.card)).replace(
        '"name": "', '"name": "\\udc00', 1
    )
    deep = "[" * 100_000 + "]" * 100_000
    lines = "\n".join([good, nul_id, surrogate_name, deep])
    report = await spar.call(IMPORT, "importReceipts", {"lines": lines})
    assert report["__typename"] == "BatchReport", report
    assert [(line["status"], line["reason"]) for line in report["lines"]] == [
        ("accepted", None),
        ("rejected", "INVALID_INPUT"),
        ("rejected", "INVALID_INPUT"),
        ("rejected", "INVALID_JSON"),
    ]
