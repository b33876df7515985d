"""SMS backends behind one interface: outbox (tests elsewhere), log, and Amazon SNS."""

from __future__ import annotations

import logging
from typing import Any

import boto3
import httpx
import pytest
from botocore.stub import Stubber

from app.db import Database
from app.main import create_app
from app.settings import Settings
from tests.conftest import with_settings
from tests.helpers import REQUEST_OTP

PHONE = "+38970111222"


async def request_code(settings: Settings, db: Database, language: str = "sq") -> dict[str, Any]:
    app = create_app(settings, db)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post(
            "/graphql",
            json={"query": REQUEST_OTP, "variables": {"phone": PHONE}},
            headers={"Accept-Language": language},
        )
    body: dict[str, Any] = response.json()
    return body


class AnyText:
    """Matches any message text and keeps it, so the test can read the code's SMS."""

    def __init__(self, sink: list[dict[str, Any]]) -> None:
        self.sink = sink

    def __eq__(self, other: object) -> bool:
        self.sink.append({"text": other})
        return isinstance(other, str) and len(other) > 0

    def __hash__(self) -> int:
        return 0


async def test_sns_backend_publishes_a_transactional_sms(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = boto3.client(
        "sns", region_name="eu-central-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    published: list[dict[str, Any]] = []
    stubber.add_response(
        "publish",
        {"MessageId": "m-1"},
        {
            "PhoneNumber": PHONE,
            "Message": AnyText(published),
            "MessageAttributes": {
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "Happy"},
            },
        },
    )
    monkeypatch.setattr(boto3, "client", lambda *a, **k: client)
    with stubber:
        body = await request_code(
            with_settings(settings, sms_backend="sns", sms_sender_id="Happy"), db, "en"
        )
        stubber.assert_no_pending_responses()
    assert body["data"]["requestOtp"]["__typename"] == "OtpRequested"
    assert len(published) == 1
    assert "Happy" in published[0]["text"] and any(ch.isdigit() for ch in published[0]["text"])


async def test_log_backend_logs_masked_number_and_never_the_code(
    settings: Settings, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        body = await request_code(with_settings(settings, sms_backend="log"), db)
    assert body["data"]["requestOtp"]["__typename"] == "OtpRequested"
    records = [r for r in caplog.records if r.getMessage() == "sms"]
    assert len(records) == 1
    record: Any = records[0]
    assert record.to != PHONE and record.to.endswith(PHONE[-2:])
    logged = " ".join(str(v) for v in record.__dict__.values())
    assert PHONE not in logged
    assert not any(word.isdigit() and len(word) == 6 for word in logged.split())
