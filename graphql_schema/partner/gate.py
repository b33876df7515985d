"""The partner door's key check, before any GraphQL work.

Every partner operation needs a key, so a request without a valid one is answered
UNAUTHENTICATED before its body is parsed, its document validated or its variables
coerced (a 4 MB ``submitReceipt`` of 45,000 lines cost 6 s of CPU before the key was
looked at). The answer is the one the context gives (``PartnerContext.caller``): HTTP 200,
``data`` null, one error with ``extensions.code`` UNAUTHENTICATED.

The same check decides who may send the partner door's larger bodies
(``HAPPY_PARTNER_MAX_BODY_BYTES``, for ``importReceipts``): the request guard asks it
(:func:`key_is_valid`) before reading past the default limit. The answer is kept in the
ASGI scope, so one request looks its key up once here. Whether the key's store may act
(active store and partner) stays the context's check.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from app import i18n
from app.db import Database
from app.errors import ErrorCode
from app.runtime import Runtime
from auth import api_keys

_SCOPE_KEY = "happy.partner_key_valid"


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


def bearer_token(scope: Scope) -> str | None:
    scheme, _, token = _header(scope, b"authorization").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def key_is_valid(scope: Scope, db: Database, runtime: Runtime) -> bool:
    """Whether the request carries a known, unrevoked partner key (memoised in the scope)."""
    known = scope.get(_SCOPE_KEY)
    if isinstance(known, bool):
        return known
    token = bearer_token(scope)
    valid = False
    if token is not None:
        async with db.read_session() as session:
            valid = await api_keys.authenticate(session, runtime.keys, token) is not None
    scope[_SCOPE_KEY] = valid
    return valid


class PartnerKeyGate:
    """ASGI wrapper of the partner view: no valid key, no GraphQL."""

    def __init__(self, app: ASGIApp, db: Database, runtime: Runtime) -> None:
        self.app = app
        self.db = db
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or await key_is_valid(scope, self.db, self.runtime):
            await self.app(scope, receive, send)
            return
        language = i18n.normalise_language(_header(scope, b"accept-language") or None)
        payload = json.dumps(
            {
                "data": None,
                "errors": [
                    {
                        "message": i18n.translate("partner.unauthenticated", language),
                        "extensions": {"code": ErrorCode.UNAUTHENTICATED.value},
                    }
                ],
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
