"""APNs pass-update pushes: the request shape, and the recording sender."""

from __future__ import annotations

import importlib.util
import json
import ssl
from pathlib import Path

import httpx
import pytest

from wallet_passes.apns import (
    APNS_HOST,
    ApnsError,
    ApnsResult,
    Http2ApnsSender,
    RecordingApnsSender,
    build_request,
    tls_context,
    tls_context_from_pem,
)
from wallet_passes.dev_certs import DevChain

TOKEN = "a1" * 32
TOPIC = "pass.al.happy.card"


def test_request_is_an_empty_background_push_to_production() -> None:
    request = build_request(TOKEN, TOPIC)
    assert request.method == "POST"
    assert request.url == f"https://api.push.apple.com/3/device/{TOKEN}"
    assert request.url.startswith(APNS_HOST)
    assert request.headers["apns-topic"] == TOPIC
    assert request.headers["apns-push-type"] == "background"
    assert request.headers["apns-priority"] == "5"
    assert json.loads(request.body) == {}


@pytest.mark.parametrize("token", ["", "zz" * 32, "a1/../../x", "a1" * 32 + "?x=1"])
def test_bad_push_token_refused(token: str) -> None:
    with pytest.raises(ApnsError):
        build_request(token, TOPIC)


def test_topic_must_be_pass_type_id() -> None:
    with pytest.raises(ApnsError):
        build_request(TOKEN, "al.happy.app")


async def test_recording_sender(tmp_path: Path) -> None:
    log = tmp_path / "outbox" / "apns.jsonl"
    sender = RecordingApnsSender(log_path=log)
    result = await sender.send(TOKEN, TOPIC)
    assert result.delivered and not result.unregistered
    assert [(p.push_token, p.topic) for p in sender.pushes] == [(TOKEN, TOPIC)]
    line = json.loads(log.read_text().splitlines()[0])
    assert line["topic"] == TOPIC and line["url"].endswith(TOKEN)
    with pytest.raises(ApnsError):
        await sender.send("nothex", TOPIC)


def test_result_flags() -> None:
    assert ApnsResult(TOKEN, 410, reason="Unregistered").unregistered
    assert ApnsResult(TOKEN, 400, reason="BadDeviceToken").unregistered
    assert not ApnsResult(TOKEN, 429, reason="TooManyRequests").unregistered


def test_tls_context_presents_pass_certificate(dev_chain: DevChain) -> None:
    context = tls_context(dev_chain.pass_cert, dev_chain.pass_key)
    assert context.verify_mode == ssl.CERT_REQUIRED
    context2 = tls_context_from_pem(
        dev_chain.pass_cert.read_bytes(), dev_chain.pass_key.read_bytes()
    )
    assert context2.check_hostname


async def test_http2_sender_builds_without_sending(dev_chain: DevChain) -> None:
    sender = Http2ApnsSender(tls_context(dev_chain.pass_cert, dev_chain.pass_key))
    request = sender.build_request(TOKEN, TOPIC)
    assert request == build_request(TOKEN, TOPIC)
    if importlib.util.find_spec("h2") is None:
        with pytest.raises(ApnsError, match="h2"):
            await sender.send(TOKEN, TOPIC)
    await sender.aclose()


async def test_http2_sender_parses_apns_answers(dev_chain: DevChain) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("b2" * 32):
            return httpx.Response(410, json={"reason": "Unregistered"})
        return httpx.Response(200, headers={"apns-id": "1-2-3"})

    sender = Http2ApnsSender(tls_context(dev_chain.pass_cert, dev_chain.pass_key))
    sender._client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    ok = await sender.send(TOKEN, TOPIC)
    gone = await sender.send("b2" * 32, TOPIC)
    await sender.aclose()
    assert ok == ApnsResult(TOKEN, 200, apns_id="1-2-3")
    assert gone.unregistered and gone.reason == "Unregistered"
    assert seen[0].method == "POST" and seen[0].content == b"{}"
    assert seen[0].headers["apns-topic"] == TOPIC
    assert str(seen[0].url) == f"https://api.push.apple.com/3/device/{TOKEN}"
