"""USSD gateway tokens: who may call the USSD callback.

Two sources, both checked in constant time:

- ``HAPPY_USSD_GATEWAY_TOKEN``: one token from the environment (a single aggregator, set
  up without touching the database);
- tokens made with ``happy ussd gateway create``: ``hug_<prefix>_<secret>``, shown once,
  kept as an HMAC with the server pepper (like partner API keys, ``auth.api_keys``), listed
  and revoked by prefix.

A checked token becomes a :class:`GatewayCredential`; its ``key`` names the gateway in the
USSD session table, so two aggregators' session ids never collide.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.keys import Keys
from auth.ussd_gateway_models import UssdGateway

TOKEN_SCOPE = "ussd-gateway-token"  # noqa: S105 - a hash scope, not a secret
ENVIRONMENT_KEY = "env"
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    prefix: str


@dataclass(frozen=True)
class GatewayCredential:
    """A checked gateway token. ``gateway_id`` is None for the environment's token."""

    key: str
    gateway_id: int | None
    last_used_at: datetime | None


async def create_gateway(
    session: AsyncSession, keys: Keys, *, label: str | None, now: datetime
) -> IssuedToken:
    """A new gateway token; the returned ``token`` is never stored."""
    if label is not None and len(label) > 80:
        raise InvalidInput(field="label")
    prefix = secrets.token_hex(5)
    secret = secrets.token_urlsafe(32)
    session.add(
        UssdGateway(
            prefix=prefix,
            secret_hash=keys.hash_code(TOKEN_SCOPE, secret),
            label=label,
            created_at=now,
        )
    )
    await session.flush()
    return IssuedToken(token=f"hug_{prefix}_{secret}", prefix=prefix)


async def list_gateways(session: AsyncSession) -> list[UssdGateway]:
    stmt = select(UssdGateway).order_by(UssdGateway.id)
    return list((await session.execute(stmt)).scalars())


async def revoke_gateway(session: AsyncSession, *, prefix: str, now: datetime) -> bool:
    """Revoke the token named by ``prefix`` (or the whole token); False if already revoked."""
    prefix = _prefix_of(prefix) or prefix
    table = cast(Table, UssdGateway.__table__)
    result = await session.execute(
        update(table)
        .where(table.c.prefix == prefix, table.c.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(table.c.id)
    )
    if result.scalar_one_or_none() is not None:
        return True
    exists = await session.execute(select(UssdGateway.id).where(UssdGateway.prefix == prefix))
    if exists.scalar_one_or_none() is None:
        raise NotFound(field="prefix")
    return False


def _prefix_of(token: str) -> str | None:
    parts = token.split("_")
    if len(parts) < 3 or parts[0] != "hug" or len(parts[1]) != 10:
        return None
    return parts[1]


async def authenticate(
    session: AsyncSession, keys: Keys, environment_token: str, token: str | None
) -> GatewayCredential | None:
    """The gateway behind ``token``, or None (missing, unknown, malformed or revoked)."""
    if not token or len(token) > 200:
        return None
    if environment_token and hmac.compare_digest(
        token.encode("utf-8"), environment_token.encode("utf-8")
    ):
        return GatewayCredential(key=ENVIRONMENT_KEY, gateway_id=None, last_used_at=None)
    prefix = _prefix_of(token)
    if prefix is None:
        return None
    secret = token[len("hug_") + len(prefix) + 1 :]
    stmt = select(UssdGateway).where(UssdGateway.prefix == prefix)
    gateway = (await session.execute(stmt)).scalar_one_or_none()
    if gateway is None:
        return None
    if not hmac.compare_digest(gateway.secret_hash, keys.hash_code(TOKEN_SCOPE, secret)):
        return None
    if gateway.revoked_at is not None:
        return None
    return GatewayCredential(
        key=f"gw:{gateway.id}", gateway_id=gateway.id, last_used_at=gateway.last_used_at
    )


async def touch(session: AsyncSession, credential: GatewayCredential, now: datetime) -> None:
    """Record that the token was used (at most once per ``LAST_USED_RESOLUTION``)."""
    if credential.gateway_id is None:
        return
    if credential.last_used_at is not None and now - credential.last_used_at < LAST_USED_RESOLUTION:
        return
    table = cast(Table, UssdGateway.__table__)
    await session.execute(
        update(table)
        .where(
            table.c.id == credential.gateway_id,
            or_(
                table.c.last_used_at.is_(None),
                table.c.last_used_at < now - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
    )
