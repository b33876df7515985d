"""Review of issue 16: every refusal of the HTTP layer is a GraphQL-over-HTTP JSON error,
never HTTP 500 with a traceback (the guard in conftest fails any test that logs an ERROR)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.pos.conftest import Pos

DEEP = "[" * 3000 + "]" * 3000


def _bad_request(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    assert set(body) == {"errors"}, body
    assert body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", body
    return body


@pytest.mark.parametrize("name", ["variables", "extensions"])
async def test_get_parameters_nested_too_deep(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get("/graphql", params={"query": "{__typename}", name: DEEP})
    body = _bad_request(response)
    assert name in body["errors"][0]["message"]


async def test_get_parameters_within_the_limit_pass(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"query": "{__typename}", "variables": '{"x": [[1]]}'}
    )
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("body", [b'"x"', b"1", b"null", b"true", b"[]", b'[{"query":"{a}"}]'])
@pytest.mark.parametrize("path", ["/graphql", "/partner/graphql"])
async def test_json_body_that_is_not_an_object(
    client: httpx.AsyncClient, spar: Pos, path: str, body: bytes
) -> None:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {spar.key}"}
    _bad_request(await client.post(path, content=body, headers=headers))


@pytest.mark.parametrize("path", ["/graphql", "/partner/graphql"])
async def test_unclean_or_odd_operation_name(
    client: httpx.AsyncClient, spar: Pos, path: str
) -> None:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {spar.key}"}
    for name in (b'"\\ud800"', b'"a\\u0000"', b"1", b"{}"):
        body = b'{"query":"query A{__typename}","operationName":' + name + b"}"
        _bad_request(await client.post(path, content=body, headers=headers))
    ok = b'{"query":"query A{__typename}","operationName":"A"}'
    response = await client.post(path, content=ok, headers=headers)
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_unclean_operation_name_over_get(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"query": "query A{__typename}", "operationName": "A\x00"}
    )
    _bad_request(response)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"query":', "application/json"),
        (b"{__typename}", "text/plain"),
        (b"query=x", "application/x-www-form-urlencoded"),
    ],
    ids=["bad-json", "text-plain", "form"],
)
async def test_strawberry_refusals_are_json(
    client: httpx.AsyncClient, content: bytes, content_type: str
) -> None:
    """strawberry's own 400s (bad JSON, unsupported content type) were text/plain."""
    _bad_request(
        await client.post("/graphql", content=content, headers={"Content-Type": content_type})
    )
