"""In production neither door shows its schema: no introspection, no "Did you mean"."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.db import Database
from app.main import create_app
from app.settings import Settings
from graphql_schema.schema_visibility import without_suggestion
from tests.production.conftest import INTROSPECTION_TOKEN, WalletFiles, production_settings

DOORS = ["/graphql", "/partner/graphql"]
INTROSPECTION = "{ __schema { queryType { name } types { name } } }"
TYPE_PROBE = '{ __type(name: "Query") { fields { name } } }'
# Misspelt on purpose: "stor" / "me { phon }" would be answered "Did you mean ...?".
MISSPELT = {"/graphql": "{ me { phon } }", "/partner/graphql": "{ stor { code } }"}
MISSPELT_ARGUMENT = {
    "/graphql": "{ me { activity(frist: 1) { edges { cursor } } } }",
    "/partner/graphql": "{ receipts(frist: 1) { edges { cursor } } }",
}


async def _post(
    client: httpx.AsyncClient, door: str, query: str, key: str = "", **headers: str
) -> Any:
    """POST ``query``; on the partner door with ``key`` (without one it answers only
    UNAUTHENTICATED, before looking at the query)."""
    if door == "/partner/graphql" and key:
        headers["Authorization"] = f"Bearer {key}"
    response = await client.post(door, json={"query": query}, headers=headers)
    assert response.status_code in {200, 400}, response.text
    return response.json()


def _messages(body: dict[str, Any]) -> list[str]:
    return [e["message"] for e in body.get("errors", [])]


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("query", [INTROSPECTION, TYPE_PROBE])
async def test_introspection_is_refused_in_production(
    prod_client: httpx.AsyncClient, prod_key: str, door: str, query: str
) -> None:
    body = await _post(prod_client, door, query, prod_key)
    assert body.get("data") is None
    assert body["errors"] == [
        {
            "message": "Introspection is disabled on this server.",
            "locations": body["errors"][0]["locations"],
            "extensions": {"code": "FORBIDDEN"},
        }
    ]


@pytest.mark.parametrize("door", DOORS)
async def test_introspection_over_get_is_refused_too(
    prod_client: httpx.AsyncClient, door: str
) -> None:
    response = await prod_client.get(door, params={"query": INTROSPECTION})
    # The member door takes queries over GET; the partner door refuses GET altogether.
    assert "queryType" not in response.text
    assert response.status_code in {400, 405} or "Introspection is disabled" in response.text


@pytest.mark.parametrize("door", DOORS)
async def test_typename_still_works(
    prod_client: httpx.AsyncClient, prod_key: str, door: str
) -> None:
    body = await _post(prod_client, door, "{ __typename }", prod_key)
    assert body == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("door", DOORS)
async def test_misspelt_fields_get_no_suggestion_in_production(
    prod_client: httpx.AsyncClient, prod_key: str, door: str
) -> None:
    for query in (MISSPELT[door], MISSPELT_ARGUMENT[door]):
        messages = _messages(await _post(prod_client, door, query, prod_key))
        assert messages, query
        assert not any("Did you mean" in m for m in messages), messages
        assert all(m.startswith(("Cannot query field", "Unknown argument")) for m in messages)


async def test_misspelt_enum_in_variables_gets_no_suggestion(
    prod_client: httpx.AsyncClient,
) -> None:
    query = 'mutation($c: Channel!) { verifyOtp(phone: "+355691234567", code: "1", channel: $c) { __typename } }'
    body = await _post(prod_client, "/graphql", query, **{})
    messages = _messages(body)
    assert messages  # channel missing
    response = await prod_client.post("/graphql", json={"query": query, "variables": {"c": "AP"}})
    messages = _messages(response.json())
    assert messages and not any("Did you mean" in m for m in messages), messages


@pytest.mark.parametrize("door", DOORS)
async def test_development_keeps_suggestions_and_introspection(
    client: httpx.AsyncClient, spar: Any, door: str
) -> None:
    body = await _post(client, door, MISSPELT[door], spar.key)
    assert any("Did you mean" in m for m in _messages(body))
    body = await _post(client, door, INTROSPECTION, spar.key)
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


@pytest.mark.parametrize("door", DOORS)
async def test_the_operator_token_allows_introspection(
    settings: Settings, wallet_files: WalletFiles, db: Database, prod_key: str, door: str
) -> None:
    app = create_app(
        production_settings(
            settings, wallet_files, graphql_introspection_token=INTROSPECTION_TOKEN
        ),
        db,
    )
    key = prod_key
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        allowed = await _post(
            client, door, INTROSPECTION, key, **{"X-Introspection-Token": INTROSPECTION_TOKEN}
        )
        assert allowed["data"]["__schema"]["queryType"]["name"] == "Query"
        wrong = await _post(client, door, INTROSPECTION, key, **{"X-Introspection-Token": "guess"})
        assert _messages(wrong) == ["Introspection is disabled on this server."]
        missing = await _post(client, door, INTROSPECTION, key)
        assert _messages(missing) == ["Introspection is disabled on this server."]


@pytest.mark.parametrize(
    ("message", "stripped"),
    [
        (
            "Cannot query field 'phon' on type 'Member'. Did you mean 'phone'?",
            "Cannot query field 'phon' on type 'Member'.",
        ),
        (
            "Unknown argument 'frist' on field 'Query.receipts'. Did you mean 'first'?",
            "Unknown argument 'frist' on field 'Query.receipts'.",
        ),
        (
            "Value 'AP' does not exist in 'Channel' enum. Did you mean the enum value 'APP'?",
            "Value 'AP' does not exist in 'Channel' enum.",
        ),
        ("Cannot query field 'x' on type 'Query'.", "Cannot query field 'x' on type 'Query'."),
    ],
)
def test_suggestions_are_cut(message: str, stripped: str) -> None:
    assert without_suggestion(message) == stripped


UNKNOWN_INPUT_FIELD = {
    "/graphql": (
        'mutation { updateProfile(input: {firstNme: "x"}) { __typename } }',
        "mutation($i: ProfileInput!) { updateProfile(input: $i) { __typename } }",
        {"firstNme": "x"},
    ),
    "/partner/graphql": (
        'mutation { refundReceipt(input: {receiptI: "x", refundId: "r"}) { __typename } }',
        "mutation($i: RefundInput!) { refundReceipt(input: $i) { __typename } }",
        {"receiptI": "x", "receiptId": "r", "refundId": "r"},
    ),
}


@pytest.mark.parametrize("door", DOORS)
async def test_unknown_input_fields_get_no_suggestion_in_production(
    prod_client: httpx.AsyncClient, prod_key: str, door: str
) -> None:
    """Review of issue 16: variable coercion puts the hint mid-message ("... Did you mean
    'firstName' or 'lastName'? Found: ..."); it is cut there too, literal and variable."""
    literal, with_variable, value = UNKNOWN_INPUT_FIELD[door]
    headers = {"Authorization": f"Bearer {prod_key}"} if door != "/graphql" else {}
    for query, variables in ((literal, None), (with_variable, {"i": value})):
        response = await prod_client.post(
            door, json={"query": query, "variables": variables}, headers=headers
        )
        messages = _messages(response.json())
        assert messages, (query, response.text)
        assert not any("Did you mean" in m for m in messages), messages
        assert not any("firstName" in m for m in messages), messages


def test_suggestion_cut_mid_message() -> None:
    message = (
        "Variable '$i' got invalid value {'firstNme': 'x'}; Field 'firstNme' is not defined "
        "by type 'ProfileInput'. Did you mean 'firstName' or 'lastName'? Found: {...}."
    )
    assert without_suggestion(message) == (
        "Variable '$i' got invalid value {'firstNme': 'x'}; Field 'firstNme' is not defined "
        "by type 'ProfileInput'. Found: {...}."
    )
