"""Pure ASGI middleware (BaseHTTPMiddleware would break context variables)."""

from __future__ import annotations

import json
import logging
import os
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import i18n
from app.db import is_transport_failure
from app.errors import ErrorCode, ServiceUnavailable
from app.log import current_request_id, set_request_id

access_log = logging.getLogger("happy.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _header(scope: Scope, name: bytes) -> bytes:
    """The first value of header ``name`` (lower case), or empty (no dict per request)."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return b""


class RequestIdMiddleware:
    """Give every request an id (or keep a sane incoming X-Request-Id), log it, return it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id").decode("latin-1")
        request_id = incoming if incoming and _VALID_ID.match(incoming) else os.urandom(16).hex()
        set_request_id(request_id)
        id_bytes = request_id.encode()
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", id_bytes)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            set_request_id(None)


class ServiceUnavailableMiddleware:
    """A request that fails because the database is unreachable gets HTTP 503 with
    ``Retry-After`` and a GraphQL-shaped body (code SERVICE_UNAVAILABLE), not a 500.

    The GraphQL doors answer such failures inside execution (``ServiceUnavailableErrors``);
    this catches what escapes any route before its answer has started (a plain HTTP route,
    a door's context).
    """

    def __init__(self, app: ASGIApp, retry_after: int) -> None:
        self.app = app
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            if started or not (isinstance(exc, ServiceUnavailable) or is_transport_failure(exc)):
                raise
            retry_after = max(self.retry_after, getattr(exc, "retry_after", 0))
            access_log.warning(
                "database unavailable: %s: %s",
                type(exc).__name__,
                exc,
                extra={"path": scope.get("path")},
            )
            language = i18n.normalise_language(_header(scope, b"accept-language").decode("latin-1"))
            code = ErrorCode.SERVICE_UNAVAILABLE.value
            body = json.dumps(
                {
                    "errors": [
                        {
                            "message": i18n.translate(code, language, retry_after=retry_after),
                            "extensions": {
                                "code": code,
                                "retryAfterSeconds": retry_after,
                                "requestId": current_request_id(),
                            },
                        }
                    ]
                }
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"retry-after", str(retry_after).encode()),
                        (b"cache-control", b"no-store"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
