"""The requests the push and Viber backends make, as the providers would receive them
(an in-process HTTP transport answering like FCM, APNs and a Viber gateway): URLs,
authentication (OAuth JWT grant, APNs ES256 token), payloads, idempotency keys, and
which answers are retried and which are final."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.messages.channels import (
    LivePushChannel,
    OutgoingMessage,
    PermanentFailure,
    PushTarget,
    ViberChannel,
)
from app.messages.models import Category, Channel, PushPlatform
from app.settings import Settings


def message(**changes: object) -> OutgoingMessage:
    base = OutgoingMessage(
        idempotency_key="happy-msg-7",
        channel=Channel.PUSH,
        kind="points_earned",
        category=Category.TRANSACTIONAL,
        recipient="devices",
        subject="You earned 12 points",
        body="You earned 12 points at Spar.",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def push_settings(settings: Settings, tmp_path: Path) -> Settings:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    account = {
        "client_email": "push@happy-test.iam.gserviceaccount.com",
        "private_key_id": "k1",
        "private_key": rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    (tmp_path / "fcm.json").write_text(json.dumps(account))
    ec_key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "apns.p8").write_bytes(
        ec_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "apns.pub").write_bytes(
        ec_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return replace(
        settings,
        apple_team_id="TEAM123456",
        messages=replace(
            settings.messages,
            push_backend="live",
            fcm_project_id="happy-test",
            fcm_service_account_file=str(tmp_path / "fcm.json"),
            apns_push_key_file=str(tmp_path / "apns.p8"),
            apns_push_key_id="KEY1234567",
            apns_push_topic="al.happy.app",
        ),
    )


async def test_push_to_fcm_and_apns(push_settings: Settings, tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def provider(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "oauth2.googleapis.com":
            assertion = dict(x.split("=", 1) for x in request.content.decode().split("&"))
            claims = jwt.decode(assertion["assertion"], options={"verify_signature": False})
            assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
            return httpx.Response(200, json={"access_token": "ya29.t", "expires_in": 3600})
        if request.url.host == "fcm.googleapis.com":
            assert request.headers["authorization"] == "Bearer ya29.t"
            return httpx.Response(200, json={"name": "projects/happy-test/messages/1"})
        token = request.headers["authorization"].removeprefix("bearer ")
        public = (tmp_path / "apns.pub").read_bytes()
        claims = jwt.decode(token, public, algorithms=["ES256"])
        assert claims["iss"] == "TEAM123456"
        assert jwt.get_unverified_header(token)["kid"] == "KEY1234567"
        if request.url.path.endswith("/" + "e" * 64):
            return httpx.Response(410, json={"reason": "Unregistered"})
        return httpx.Response(200)

    channel = LivePushChannel(push_settings, transport=httpx.MockTransport(provider))
    targets = (
        PushTarget(PushPlatform.ANDROID, "fcm-token-1234567890"),
        PushTarget(PushPlatform.IOS, "d" * 64),
        PushTarget(PushPlatform.IOS, "e" * 64),
    )
    assert await channel.send(message(push_targets=targets)) == "happy-msg-7"
    fcm = next(r for r in seen if r.url.host == "fcm.googleapis.com")
    assert fcm.url.path == "/v1/projects/happy-test/messages:send"
    body = json.loads(fcm.content)["message"]
    assert body["token"] == "fcm-token-1234567890" and body["data"]["message_id"] == "happy-msg-7"
    apns = next(r for r in seen if r.url.path.endswith("d" * 64))
    assert apns.url.host == "api.push.apple.com"
    assert (
        apns.headers["apns-topic"] == "al.happy.app" and apns.headers["apns-push-type"] == "alert"
    )
    assert json.loads(apns.content)["aps"]["alert"]["title"] == "You earned 12 points"
    assert channel.gone == ["e" * 64]  # unregistered: the dispatcher forgets it
    with pytest.raises(PermanentFailure):
        await channel.send(message(push_targets=()))
    await channel.aclose()


async def test_viber_requests_and_answers() -> None:
    answers = iter(
        [
            httpx.Response(200, json={"message_token": 99}),
            httpx.Response(503),
            httpx.Response(400, json={"error": "bad number"}),
        ]
    )
    seen: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(answers)

    channel = ViberChannel(
        "https://viber.example/send", "secret", "Happy", transport=httpx.MockTransport(gateway)
    )
    sms_like = message(channel=Channel.VIBER, recipient="+355691234567")
    assert await channel.send(sms_like) == "99"
    assert seen[0].headers["authorization"] == "Bearer secret"
    assert seen[0].headers["idempotency-key"] == "happy-msg-7"
    assert json.loads(seen[0].content) == {
        "sender": "Happy",
        "receiver": "355691234567",
        "text": "You earned 12 points at Spar.",
        "message_id": "happy-msg-7",
    }
    with pytest.raises(httpx.HTTPStatusError):  # 503: retried later
        await channel.send(sms_like)
    with pytest.raises(PermanentFailure):  # 400: a dead letter at once
        await channel.send(sms_like)
    await channel.aclose()
