"""Issue 16.2 and 16.3: body limits, encoding, nesting and the per-request time budget."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from app.db import Database
from app.main import create_app
from app.request_guard import json_depth
from app.settings import Settings
from tests.pos.conftest import IMPORT, SUBMIT, Member, Pos, receipt

QUERY = "{ __typename }"


def _refusal(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"errors"}
    assert body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == code
    assert body["errors"][0]["extensions"]["requestId"] == response.headers["x-request-id"]
    return body


@pytest.mark.parametrize("path", ["/graphql", "/partner/graphql"])
async def test_body_not_utf8_is_400(client: httpx.AsyncClient, path: str) -> None:
    body = b'{"query": "{ __typename }", "variables": {"x": "\xff\xfe"}}'
    response = await client.post(path, content=body, headers={"Content-Type": "application/json"})
    _refusal(response, 400, "BAD_REQUEST")


@pytest.mark.parametrize("path", ["/graphql", "/partner/graphql"])
async def test_json_nested_100000_deep_is_400(client: httpx.AsyncClient, path: str) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    body = '{"query": "{ __typename }", "variables": {"x": ' + deep + "}}"
    response = await client.post(
        path, content=body.encode(), headers={"Content-Type": "application/json"}
    )
    _refusal(response, 400, "BAD_REQUEST")


async def test_nesting_within_limit_passes(client: httpx.AsyncClient) -> None:
    nested = "[" * 60 + "]" * 60
    body = '{"query": "{ __typename }", "variables": {"x": ' + nested + "}}"
    response = await client.post(
        "/graphql", content=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"__typename": "Query"}}


def test_json_depth_ignores_brackets_in_strings() -> None:
    assert json_depth(b'{"a": "[[[[{{{{", "b": [1, {"c": "\\"]]]"}]}') == 3
    assert json_depth(b"[[[]], []]") == 3
    assert json_depth(b'"just a string"') == 0


def _padded(size: int) -> bytes:
    return json.dumps({"query": QUERY, "variables": {"pad": "x" * size}}).encode()


@pytest.mark.parametrize("path", ["/graphql", "/partner/graphql"])
async def test_body_over_limit_is_413_before_parsing(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(
        path, content=_padded(256 * 1024 + 10), headers={"Content-Type": "application/json"}
    )
    _refusal(response, 413, "PAYLOAD_TOO_LARGE")


async def test_partner_body_over_its_limit_is_413_even_with_a_key(spar: Pos) -> None:
    response = await spar.client.post(
        "/partner/graphql",
        content=_padded(4 * 1024 * 1024 + 10),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {spar.key}"},
    )
    _refusal(response, 413, "PAYLOAD_TOO_LARGE")


def _many_lines(count: int) -> dict[str, Any]:
    line = {"sku": "S", "name": "N", "quantity": "1", "unitPrice": 100, "amount": 100}
    return receipt("MANY-1", None, lines=[line] * count)


@pytest.mark.parametrize("key", [None, "hpk_0123456789_unknownsecret"], ids=["none", "unknown"])
async def test_partner_request_without_a_valid_key_is_refused_before_graphql(
    client: httpx.AsyncClient, key: str | None
) -> None:
    """Review of issue 16: 4 MB of receipt lines were coerced (6 s of CPU) before the key
    was looked at. Without a valid key: the default 256 KB limit, and UNAUTHENTICATED
    without parsing anything."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    big = json.dumps({"query": SUBMIT, "variables": {"input": _many_lines(45_000)}}).encode()
    assert 256 * 1024 < len(big) < 4 * 1024 * 1024
    response = await client.post(
        "/partner/graphql", content=big, headers={**headers, "Content-Type": "application/json"}
    )
    _refusal(response, 413, "PAYLOAD_TOO_LARGE")
    small = await client.post(
        "/partner/graphql",
        json={"query": "{ store { code } } fragment {", "variables": {"x": 1}},
        headers={**headers, "Accept-Language": "en"},
    )
    assert small.status_code == 200
    body = small.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}  # not a syntax error
    assert "API key" in body["errors"][0]["message"]


async def test_too_many_receipt_lines_refused_before_coercion(spar: Pos) -> None:
    started = time.perf_counter()
    response = await spar.client.post(
        "/partner/graphql",
        json={"query": SUBMIT, "variables": {"input": _many_lines(45_000)}},
        headers={"Authorization": f"Bearer {spar.key}"},
    )
    elapsed = time.perf_counter() - started
    body = response.json()
    assert body["errors"][0]["extensions"] == {
        "code": "INVALID_INPUT",
        "field": "input.lines",
        "maximum": 500,
    }, body
    assert elapsed < 1.5, f"took {elapsed:.2f}s"  # the one timing assertion
    body = await spar.gql(SUBMIT, {"input": _many_lines(500)})
    assert body["data"]["submitReceipt"]["__typename"], body  # 500 lines still pass


async def test_streamed_body_counted_without_content_length(client: httpx.AsyncClient) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"query": "{ __typename }", "variables": {"pad": "'
        for _ in range(1000):  # 64 MB if all were read
            sent += 1
            yield b"x" * 65536
        yield b'"}}'

    response = await client.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )
    _refusal(response, 413, "PAYLOAD_TOO_LARGE")
    assert sent < 10  # stopped reading just past the limit


async def test_lying_content_length_still_counted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        content=_padded(300 * 1024),
        headers={"Content-Type": "application/json", "Content-Length": "100"},
    )
    assert response.status_code in (400, 413)


async def test_partner_import_may_be_larger_than_the_default(spar: Pos, member: Member) -> None:
    line = json.dumps(receipt("BIG-1", member.card))
    filler = "\n" * (600 * 1024)  # blank lines are ignored; the body is ~600 KB
    report = await spar.call(IMPORT, "importReceipts", {"lines": filler + line})
    assert report["accepted"] == 1, report


async def test_a_normal_request_passes(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": QUERY})
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.fixture
async def slow_client(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """An app with a 0.3 s budget whose ledger listing hangs (a stuck database)."""
    from app.ledger import service as ledger

    async def stuck(*_args: Any, **_kwargs: Any) -> list[Any]:
        await asyncio.sleep(30)
        return []

    monkeypatch.setattr(ledger, "list_entries", stuck)
    app = create_app(replace(settings, request_timeout_seconds=0.3), db)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_request_over_time_budget_is_504(
    slow_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, api: Any
) -> None:
    token = (await api.sign_up("+355691234568"))["accessToken"]
    headers = {"Authorization": f"Bearer {token}"}
    query = "{ me { activity { edges { cursor } } } }"
    response, health = await asyncio.gather(
        slow_client.post("/graphql", json={"query": query}, headers=headers),
        slow_client.get("/healthz"),
    )
    assert health.status_code == 200
    body = _refusal(response, 504, "REQUEST_TIMEOUT")
    assert "0.3 seconds" in body["errors"][0]["message"]
    # Review of issue 16: the budget may end after a commit; the answer does not say
    # nothing was kept.
    assert "may have been applied" in body["errors"][0]["message"]
    assert "nothing it started was kept" not in body["errors"][0]["message"]
    assert any(
        r.levelno == logging.WARNING and "time budget" in r.getMessage() for r in caplog.records
    )
    # The app still answers.
    assert (await slow_client.post("/graphql", json={"query": QUERY})).status_code == 200
