"""The partner door's key check, before any GraphQL work.

Every partner operation needs a key, so a request without a valid one is answered
UNAUTHENTICATED before its body is parsed, its document validated or its variables
coerced (a 4 MB ``submitReceipt`` of 45,000 lines cost 6 s of CPU before the key was
looked at). The answer is the one the context gives (``PartnerContext.caller``): HTTP 200,
``data`` null, one error with ``extensions.code`` UNAUTHENTICATED.

The same check decides who may send the partner door's larger bodies
(``HAPPY_PARTNER_MAX_BODY_BYTES``, for ``importReceipts``): the request guard asks it
(:func:`key_is_valid`) before reading past the default limit. The answer is kept in the
ASGI scope, so one request looks its key up once here. The lookup is one statement (the
key with its store and partner, no transaction), and the context takes its caller from the
same answer: a partner request authenticates in one round trip. Nothing is kept between
requests, so a revoked key stops at its next request. Whether the key's store may act
(active store and partner) stays the context's check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select
from starlette.types import ASGIApp, Receive, Scope, Send

from app import i18n
from app.callers import Channel, StoreCaller
from app.db import Database
from app.errors import ErrorCode
from app.partners import service as partners
from app.partners.models import Partner, Store
from app.runtime import Runtime
from auth import api_keys
from auth.api_key_models import PartnerApiKey

_SCOPE_KEY = "happy.partner_key"


@dataclass(frozen=True)
class KeyCheck:
    """What the request's key stands for: its credential (None: no valid key) and the
    caller of its store (None while the store or partner is inactive)."""

    credential: api_keys.ApiKeyCredential | None
    caller: StoreCaller | None


@cache
def _key_with_store() -> Select[Any]:
    """The key of ``:key_prefix`` with its store and partner: one statement, built once."""
    return (
        api_keys.key_query()
        .add_columns(*partners.store_caller_columns())
        .join(Store, Store.id == PartnerApiKey.store_id)
        .join(Partner, Partner.id == Store.partner_id)
    )


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


def bearer_token(scope: Scope) -> str | None:
    scheme, _, token = _header(scope, b"authorization").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def check_key(scope: Scope, db: Database, runtime: Runtime) -> KeyCheck:
    """The request's key checked (memoised in the scope: one lookup per request)."""
    known = scope.get(_SCOPE_KEY)
    if isinstance(known, KeyCheck):
        return known
    token = bearer_token(scope)
    parts = api_keys.split_key(token) if token is not None else None
    found = KeyCheck(None, None)
    if parts is not None:
        prefix, secret = parts
        async with db.single_read_connection() as connection:
            row = (await connection.execute(_key_with_store(), {"key_prefix": prefix})).first()
        credential = api_keys.credential_of_row(runtime.keys, secret, row)
        if credential is not None and row is not None:
            caller = partners.store_caller_of_row(
                row, channel=Channel.POS, limit_key=credential.limit_key
            )
            found = KeyCheck(credential, caller)
    scope[_SCOPE_KEY] = found
    return found


async def key_is_valid(scope: Scope, db: Database, runtime: Runtime) -> bool:
    """Whether the request carries a known, unrevoked partner key (memoised in the scope)."""
    return (await check_key(scope, db, runtime)).credential is not None


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
