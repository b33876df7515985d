"""Partner API keys: created for one store, shown once, stored as a keyed hash, revocable.

A key reads ``hpk_<prefix>_<secret>``: the prefix (public, 10 characters) finds the row and
names the key in listings; the secret (32 random bytes) is only ever compared through its
HMAC with the server pepper, in constant time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Row, Select, Table, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.keys import Keys
from app.partners import service as partners
from auth import prefixed_tokens as tokens
from auth.api_key_models import PartnerApiKey

if TYPE_CHECKING:
    from app.partners.models import Store

KEY_SCOPE = "partner-api-key"
KIND = "hpk"
# ``last_used_at`` is written at most this often per key, so a busy till does not turn
# every request into a write on one hot row.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    key: str
    prefix: str
    store_code: str


@dataclass(frozen=True)
class ApiKeyCredential:
    """A checked key: which store it is for. The door turns it into the core's caller."""

    key_id: int
    key_prefix: str
    store_id: int
    last_used_at: datetime | None

    @property
    def limit_key(self) -> str:
        """What the store's limits count against: this key (see ``app.callers``)."""
        return f"api-key:{self.key_id}"


async def create_key(
    session: AsyncSession, keys: Keys, *, store_code: str, label: str | None, now: datetime
) -> IssuedKey:
    """A new key for the store ``store_code``; the returned ``key`` is never stored."""
    label = check_label(label)
    store = await partners.store_by_code(session, store_code)
    if store is None:
        raise NotFound(field="store")
    issued = tokens.new_token(keys, KIND, KEY_SCOPE)
    session.add(
        PartnerApiKey(
            prefix=issued.prefix,
            secret_hash=issued.secret_hash,
            store_id=store.id,
            label=label,
            created_at=now,
        )
    )
    await session.flush()
    return IssuedKey(key=issued.token, prefix=issued.prefix, store_code=store.code)


async def revoke_key(session: AsyncSession, *, prefix: str, now: datetime) -> bool:
    """Revoke the key named by ``prefix`` (or the whole key); False if it was revoked already."""
    return await tokens.revoke(session, PartnerApiKey, KIND, prefix, now)


async def list_keys(session: AsyncSession) -> list[tuple[PartnerApiKey, Store]]:
    found = list((await session.execute(select(PartnerApiKey))).scalars())
    stores = await partners.stores_by_id(session, sorted({key.store_id for key in found}))
    pairs = [(key, stores[key.store_id]) for key in found]
    return sorted(pairs, key=lambda pair: (pair[1].code, pair[0].id))


_KEY_COLUMNS: tuple[Any, ...] = (
    PartnerApiKey.id.label("key_id"),
    PartnerApiKey.prefix.label("key_prefix"),
    PartnerApiKey.secret_hash.label("key_secret_hash"),
    PartnerApiKey.store_id.label("key_store_id"),
    PartnerApiKey.revoked_at.label("key_revoked_at"),
    PartnerApiKey.last_used_at.label("key_last_used_at"),
)


def key_query() -> Select[Any]:
    """A Core SELECT of the key with prefix ``:key_prefix`` (columns ``key_*``), for a door
    to join what the key stands for (its store) and run as one statement;
    :func:`credential_of_row` checks the secret against the row."""
    return select(*_KEY_COLUMNS).where(PartnerApiKey.prefix == bindparam("key_prefix"))


def split_key(key: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed key, else None."""
    return tokens.split(key, KIND)


def credential_of_row(keys: Keys, secret: str, row: Row[Any] | None) -> ApiKeyCredential | None:
    """The credential of a row of :func:`key_query` if ``secret`` is the key's and it is not
    revoked; else None (the same rules as :func:`authenticate`)."""
    if row is None:
        return None
    values = row._mapping
    if not tokens.secret_matches(keys, KEY_SCOPE, secret, values["key_secret_hash"]):
        return None
    if values["key_revoked_at"] is not None:
        return None
    return ApiKeyCredential(
        key_id=values["key_id"],
        key_prefix=values["key_prefix"],
        store_id=values["key_store_id"],
        last_used_at=values["key_last_used_at"],
    )


async def authenticate(session: AsyncSession, keys: Keys, key: str) -> ApiKeyCredential | None:
    """The credential behind ``key``, or None (unknown, malformed or revoked). Whether its
    store may act (active store and partner) is the core's to say (``store_caller``)."""
    parts = tokens.split(key, KIND)
    if parts is None:
        return None
    prefix, secret = parts
    stmt = select(PartnerApiKey).where(PartnerApiKey.prefix == prefix)
    api_key = (await session.execute(stmt)).scalar_one_or_none()
    if api_key is None or not tokens.secret_matches(keys, KEY_SCOPE, secret, api_key.secret_hash):
        return None
    if api_key.revoked_at is not None:
        return None
    return ApiKeyCredential(
        key_id=api_key.id,
        key_prefix=api_key.prefix,
        store_id=api_key.store_id,
        last_used_at=api_key.last_used_at,
    )


async def touch(session: AsyncSession, caller: ApiKeyCredential, now: datetime) -> None:
    """Record that the key was used (at most once per ``LAST_USED_RESOLUTION``)."""
    if caller.last_used_at is not None and now - caller.last_used_at < LAST_USED_RESOLUTION:
        return
    table = cast(Table, PartnerApiKey.__table__)
    await session.execute(
        update(table)
        .where(
            table.c.id == caller.key_id,
            or_(
                table.c.last_used_at.is_(None),
                table.c.last_used_at < now - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
    )


def check_label(label: str | None) -> str | None:
    if label is not None and len(label) > 80:
        raise InvalidInput(field="label")
    return label
