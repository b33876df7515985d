"""One scheme for the bearer tokens the operator hands out (partner API keys, USSD gateway
tokens, kiosk device tokens): ``<kind>_<prefix>_<secret>``.

The prefix (public, 10 hex characters) finds the row and names the token in listings; the
secret (32 random bytes) is stored only as a keyed hash and compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.keys import Keys

PREFIX_LENGTH = 10


@dataclass(frozen=True)
class NewToken:
    token: str  # shown once, never stored
    prefix: str
    secret_hash: str


def new_token(keys: Keys, kind: str, scope: str) -> NewToken:
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    secret = secrets.token_urlsafe(32)
    return NewToken(f"{kind}_{prefix}_{secret}", prefix, keys.hash_code(scope, secret))


def split(token: str, kind: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed token of ``kind``, else None."""
    head, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    if head != kind or len(prefix) != PREFIX_LENGTH or not secret:
        return None
    return prefix, secret


def prefix_of(token_or_prefix: str, kind: str) -> str:
    """The prefix named by a whole token or by the prefix itself (listings show it)."""
    parts = split(token_or_prefix, kind)
    return parts[0] if parts else token_or_prefix


def secret_matches(keys: Keys, scope: str, secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(stored_hash, keys.hash_code(scope, secret))


async def revoke(
    session: AsyncSession, model: Any, kind: str, token_or_prefix: str, now: datetime
) -> bool:
    """Revoke the token; False if it was revoked already, ``NotFound`` if there is none."""
    prefix = prefix_of(token_or_prefix, kind)
    table = cast(Table, model.__table__)
    result = await session.execute(
        update(table)
        .where(table.c.prefix == prefix, table.c.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(table.c.id)
    )
    if result.scalar_one_or_none() is not None:
        return True
    if (await session.execute(select(table.c.id).where(table.c.prefix == prefix))).first() is None:
        raise NotFound(field="prefix")
    return False
