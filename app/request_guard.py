"""Every request bounded before any door sees it (pure ASGI middleware).

- **Body size**: ``Content-Length`` over the limit is refused before reading; a body without
  one (chunked) is counted as it streams and refused as soon as it passes the limit: 413.
  The partner door has a larger limit (its ``importReceipts`` batch) for requests whose
  key the door accepts (asked through ``large_body_allowed`` only when a body passes the
  default); everything else, unauthenticated partner requests included, the default
  (``HAPPY_MAX_BODY_BYTES``, 256 KB).
- **Encoding and nesting**: a JSON body must be UTF-8 and nest at most
  ``HAPPY_MAX_JSON_DEPTH`` deep (Python's JSON parser would recurse 100,000 levels and fail
  with a RecursionError): 400. Checked in one linear pass, before anything parses it.
- **Time**: a request gets ``HAPPY_REQUEST_TIMEOUT_SECONDS``; past that it is cancelled
  (open transactions roll back) and answered 504 with ``extensions.code`` REQUEST_TIMEOUT.
  The budget can end after a transaction committed (during its after-commit work), so the
  answer does not claim nothing was kept: it says a change may have been applied and to
  retry with the same id, which is safe (receipts, refunds and redemptions are idempotent).
  After-commit work cut short loses nothing: what it delivers is in the outbox, written in
  the transaction, and the outbox poller delivers what is left. The budget
  interrupts waiting (database, network), not a loop that never yields; the GraphQL limits
  (:mod:`graphql_schema.query_limits`) keep the CPU work of one request small.

Refusals are GraphQL-over-HTTP error bodies (``{"errors": [{"message", "extensions"}]}``)
and are logged at WARNING without a traceback: they are the client's mistakes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.log import current_request_id
from app.settings import Settings

log = logging.getLogger("happy.requests")

PARTNER_PATH = "/partner/graphql"
# A JSON string (escapes included): removed before counting brackets, which inside
# strings are text.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(body: bytes) -> int:
    """How deeply the JSON text ``body`` nests arrays and objects (linear, no recursion)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub(b"", body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class RequestGuardMiddleware:
    """Body limit, UTF-8 and JSON depth checks, and the per-request time budget."""

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        large_body_allowed: Callable[[Scope], Awaitable[bool]] | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.large_body_allowed = large_body_allowed

    async def body_limit(self, scope: Scope, size: int) -> int:
        """The limit for a body of ``size`` bytes: the default, or the partner door's for a
        request with a valid key (asked only when the body is past the default)."""
        default = self.settings.max_body_bytes
        if (
            size <= default
            or self.large_body_allowed is None
            or scope.get("path", "").rstrip("/") != PARTNER_PATH
        ):
            return default
        if await self.large_body_allowed(scope):
            return max(default, self.settings.partner_max_body_bytes)
        return default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read_body(scope, receive)
            if body:
                self._check_json(scope, body)
        except _Refused as refused:
            log.warning(
                "request refused: %s",
                refused.message,
                extra={"code": refused.code, "path": scope.get("path")},
            )
            await _send_error(send, refused.status, refused.code, refused.message)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        started = False

        async def watch_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        budget = self.settings.request_timeout_seconds
        try:
            async with asyncio.timeout(budget):
                await self.app(scope, replay, watch_send)
        except TimeoutError:
            log.warning(
                "request exceeded its time budget of %ss",
                budget,
                extra={"code": "REQUEST_TIMEOUT", "path": scope.get("path")},
            )
            if not started:
                await _send_error(
                    send,
                    504,
                    "REQUEST_TIMEOUT",
                    f"The request took longer than {budget:g} seconds and was stopped. "
                    "A change it made may have been applied: retry with the same id "
                    "(receipts, refunds and redemptions are idempotent), or ask for less.",
                )

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        def too_large(limit: int) -> _Refused:
            return _Refused(
                413, "PAYLOAD_TOO_LARGE", f"The request body is larger than {limit} bytes."
            )

        limit = self.settings.max_body_bytes
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                declared_size = int(declared)
            except ValueError:
                raise _Refused(400, "BAD_REQUEST", "Content-Length is not a number.") from None
            limit = await self.body_limit(scope, declared_size)
            if declared_size > limit:
                raise too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                limit = await self.body_limit(scope, size)
                if size > limit:
                    raise too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _check_json(self, scope: Scope, body: bytes) -> None:
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        if "json" not in content_type:
            return
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise _Refused(400, "BAD_REQUEST", "The request body is not UTF-8.") from None
        limit = self.settings.max_json_depth
        # At most as deep as it has brackets that open: short bodies are not scanned.
        if body.count(b"{") + body.count(b"[") > limit and json_depth(body) > limit:
            raise _Refused(
                400,
                "BAD_REQUEST",
                f"The JSON body nests deeper than {self.settings.max_json_depth} levels.",
            )


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    extensions: dict[str, Any] = {"code": code}
    request_id = current_request_id()
    if request_id:
        extensions["requestId"] = request_id
    payload = json.dumps({"errors": [{"message": message, "extensions": extensions}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
