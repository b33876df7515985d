"""Telling a device that a pass changed: an Apple Push Notification with an empty payload.

Wallet then calls the pass web service (``GET /v1/devices/.../registrations/...`` and
``GET /v1/passes/...``) and shows the field's ``changeMessage``. The push is authenticated
with the *pass type certificate* as TLS client certificate (no JWT), ``apns-topic`` is the
pass type identifier, the payload is ``{}``, and pass pushes always go to the production
APNs host (Wallet has no sandbox).
"""

from __future__ import annotations

import json
import os
import re
import ssl
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import httpx

APNS_HOST = "https://api.push.apple.com"
EMPTY_PAYLOAD = b"{}"
_PUSH_TOKEN = re.compile(r"[0-9a-fA-F]{32,200}")
_TOPIC = re.compile(r"pass\.[A-Za-z0-9.-]+")


class ApnsError(RuntimeError):
    """The push could not be attempted (bad token, topic, or missing HTTP/2 support)."""


@dataclass(frozen=True)
class ApnsResult:
    """APNs' answer for one push token."""

    push_token: str
    status: int
    apns_id: str | None = None
    reason: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status == 200

    @property
    def unregistered(self) -> bool:
        """The device no longer takes pushes for this pass: drop its registration."""
        return self.status == 410 or self.reason in {"BadDeviceToken", "Unregistered"}


@dataclass(frozen=True)
class ApnsRequest:
    """The HTTP/2 request for one push, independent of any HTTP client."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


def check_push_token(push_token: str) -> str:
    if not _PUSH_TOKEN.fullmatch(push_token):
        raise ApnsError("push token must be hexadecimal")
    return push_token


def build_request(push_token: str, topic: str, *, host: str = APNS_HOST) -> ApnsRequest:
    """The pass-update push: empty JSON payload, topic = pass type identifier.

    ``apns-push-type: background`` with priority 5 (Apple requires 5 for background pushes):
    the push carries no alert, Wallet fetches the pass and shows the change message itself.
    """
    if not _TOPIC.fullmatch(topic):
        raise ApnsError("topic must be the pass type identifier (pass.…)")
    return ApnsRequest(
        method="POST",
        url=f"{host}/3/device/{check_push_token(push_token)}",
        headers={
            "apns-topic": topic,
            "apns-push-type": "background",
            "apns-priority": "5",
            "content-type": "application/json",
        },
        body=EMPTY_PAYLOAD,
    )


class ApnsSender(Protocol):
    """Sends one pass-update push."""

    async def send(self, push_token: str, topic: str) -> ApnsResult: ...


@dataclass(frozen=True)
class RecordedPush:
    push_token: str
    topic: str
    at: datetime


@dataclass
class RecordingApnsSender:
    """Records pushes instead of sending them: tests and the ``outbox`` development backend.

    With ``log_path`` each push is also appended to that JSON-lines file.
    """

    log_path: Path | None = None
    pushes: list[RecordedPush] = field(default_factory=list)

    async def send(self, push_token: str, topic: str) -> ApnsResult:
        request = build_request(push_token, topic)  # same validation as the real sender
        push = RecordedPush(push_token=push_token, topic=topic, at=datetime.now(UTC))
        self.pushes.append(push)
        if self.log_path is not None:
            line = json.dumps(
                {"url": request.url, "topic": topic, "at": push.at.isoformat()},
                sort_keys=True,
            )
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        return ApnsResult(push_token=push_token, status=200, apns_id=None)


def tls_context(cert_file: Path, key_file: Path, key_password: str | None = None) -> ssl.SSLContext:
    """Client TLS context presenting the pass certificate to APNs."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file, password=key_password or None)
    context.set_alpn_protocols(["h2"])
    return context


def tls_context_from_pem(
    cert_pem: bytes, key_pem: bytes, key_password: str | None = None
) -> ssl.SSLContext:
    """As ``tls_context`` for PEM bytes (for example loaded from S3); the temporary files
    are private to this user and removed at once."""
    with tempfile.TemporaryDirectory(prefix="happy-apns-") as folder:
        cert_file, key_file = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        for path, data in ((cert_file, cert_pem), (key_file, key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        return tls_context(cert_file, key_file, key_password)


class Http2ApnsSender:
    """The production sender: HTTP/2 to APNs with the pass certificate (httpx + h2).

    One client (one HTTP/2 connection, many concurrent streams) is kept for the process;
    call ``aclose()`` at shutdown.
    """

    def __init__(
        self, ssl_context: ssl.SSLContext, *, host: str = APNS_HOST, timeout: float = 10.0
    ) -> None:
        self.ssl_context = ssl_context
        self.host = host
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    def build_request(self, push_token: str, topic: str) -> ApnsRequest:
        return build_request(push_token, topic, host=self.host)

    def _http_client(self) -> httpx.AsyncClient:
        if self._client is None:
            try:
                import h2  # noqa: F401  (httpx needs it for http2=True)
                import httpx
            except ImportError as exc:
                raise ApnsError(
                    "the http2 APNs backend needs the httpx and h2 packages (httpx[http2])"
                ) from exc
            self._client = httpx.AsyncClient(
                http2=True, verify=self.ssl_context, timeout=self.timeout
            )
        return self._client

    async def send(self, push_token: str, topic: str) -> ApnsResult:
        request = self.build_request(push_token, topic)
        client = self._http_client()
        response = await client.request(
            request.method, request.url, headers=request.headers, content=request.body
        )
        reason = None
        if response.status_code != 200 and response.content:
            try:
                reason = str(json.loads(response.content).get("reason"))
            except (ValueError, AttributeError):
                reason = response.text[:200]
        return ApnsResult(
            push_token=push_token,
            status=response.status_code,
            apns_id=response.headers.get("apns-id"),
            reason=reason,
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
