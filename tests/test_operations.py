"""Health, readiness, request ids, masked errors, JSON logs, production settings."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from app.db import create_database
from app.log import JsonFormatter, set_request_id
from app.main import create_app
from app.settings import Settings, SettingsError, load_settings
from tests.conftest import with_settings
from tests.helpers import Api


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "up"


async def test_readyz_reports_an_unreachable_database(settings: Settings) -> None:
    # Nothing listens on port 1: the connection is refused at once.
    broken = with_settings(settings, database_url="postgresql+asyncpg://happy@127.0.0.1:1/happy")
    database = create_database(broken)
    app = create_app(broken, database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
    await database.dispose()
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "down"}


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-Id": "pos-42-abc"})
    assert given.headers["x-request-id"] == "pos-42-abc"
    made = await client.get("/healthz", headers={"X-Request-Id": "bad id\nwith newline"})
    assert made.headers["x-request-id"] != "bad id\nwith newline"
    assert len(made.headers["x-request-id"]) == 32


async def test_unexpected_errors_are_masked_and_logged_with_request_id(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    token = (await api.sign_up("+355691112233"))["accessToken"]

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("db password is hunter2 for +355691112233")

    monkeypatch.setattr("app.privacy.service.export_data", broken)
    with caplog.at_level(logging.ERROR):
        response = await api.client.post(
            "/graphql",
            json={"query": "mutation { exportMyData { data } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    body = response.json()
    assert "hunter2" not in response.text and "Traceback" not in response.text
    error = body["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    logged = [r for r in caplog.records if r.exc_info]
    assert logged, "the unexpected error must be logged"
    line = json.loads(JsonFormatter().format(logged[-1]))
    assert "hunter2" in line["exception"]  # operators see the cause ...
    assert "+355691112233" not in line["exception"]  # ... but never a whole phone number


def test_json_log_lines_mask_phones_and_carry_request_id() -> None:
    set_request_id("req-123")
    try:
        record = logging.makeLogRecord(
            {"msg": "code sent to %s", "args": ("+38344123456",), "levelname": "INFO"}
        )
        line = json.loads(JsonFormatter().format(record))
    finally:
        set_request_id(None)
    assert line["request_id"] == "req-123"
    assert "+38344123456" not in line["message"]
    assert line["message"].startswith("code sent to +38344")


def _production_env(monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    for key, value in {
        "HAPPY_ENV": "production",
        "HAPPY_SMS_BACKEND": "sns",
        "HAPPY_JWT_SECRET": "kZ3q9VtR1xW7mP0sL4yB8nC2dF6gH5jA-uE_oI",
        "HAPPY_HASH_SECRET": "Qw8eR4tY2uI6oP0aS9dF3gH7jK1lZ5xC-vB_nM",
        "HAPPY_GRAPHIQL": "false",
        "HAPPY_PUBLIC_BASE_URL": "https://happy.example.al",
        "HAPPY_APPLE_PASS_CERT": "s3://secrets/pass.pem",
        "HAPPY_APPLE_PASS_KEY": "s3://secrets/pass.key",
        "HAPPY_APPLE_WWDR_CERT": "s3://secrets/wwdr.pem",
        "HAPPY_APNS_BACKEND": "http2",
        "HAPPY_GOOGLE_SERVICE_ACCOUNT_FILE": "/etc/happy/google.json",
        "HAPPY_GOOGLE_WALLET_BACKEND": "rest",
        **extra,
    }.items():
        monkeypatch.setenv(key, value)


def test_production_accepts_a_complete_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    _production_env(monkeypatch)
    assert load_settings().is_production


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"HAPPY_SMS_BACKEND": "outbox"}, "HAPPY_SMS_BACKEND=outbox"),
        ({"HAPPY_JWT_SECRET": ""}, "HAPPY_JWT_SECRET"),
        ({"HAPPY_HASH_SECRET": "short"}, "HAPPY_HASH_SECRET"),
        ({"HAPPY_GRAPHIQL": "true"}, "HAPPY_GRAPHIQL"),
        ({"HAPPY_APNS_BACKEND": "outbox"}, "HAPPY_APNS_BACKEND"),
        ({"HAPPY_PUBLIC_BASE_URL": "http://happy.example.al"}, "https"),
    ],
)
def test_production_refuses_development_settings(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, str], complaint: str
) -> None:
    _production_env(monkeypatch, **change)
    with pytest.raises(SettingsError, match=complaint):
        load_settings()


def test_graphiql_only_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAPPY_ENV", "development")
    assert load_settings().graphiql is True
    _production_env(monkeypatch)
    monkeypatch.delenv("HAPPY_GRAPHIQL")
    assert load_settings().graphiql is False


async def test_expected_errors_are_not_logged_as_errors(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await api.gql("{ me { phone } }", token="expired.or.forged")
        await api.client.post("/graphql", json={"query": "{ me { nosuchfield } }"})
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
