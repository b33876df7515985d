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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.keys import Keys
from auth import prefixed_tokens as tokens
from auth.ussd_gateway_models import UssdGateway

TOKEN_SCOPE = "ussd-gateway-token"  # noqa: S105 - a hash scope, not a secret
KIND = "hug"
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
    issued = tokens.new_token(keys, KIND, TOKEN_SCOPE)
    session.add(
        UssdGateway(
            prefix=issued.prefix,
            secret_hash=issued.secret_hash,
            label=label,
            created_at=now,
        )
    )
    await session.flush()
    return IssuedToken(token=issued.token, prefix=issued.prefix)


async def list_gateways(session: AsyncSession) -> list[UssdGateway]:
    stmt = select(UssdGateway).order_by(UssdGateway.id)
    return list((await session.execute(stmt)).scalars())


async def revoke_gateway(session: AsyncSession, *, prefix: str, now: datetime) -> bool:
    """Revoke the token named by ``prefix`` (or the whole token); False if already revoked."""
    return await tokens.revoke(session, UssdGateway, KIND, prefix, now)


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
    parts = tokens.split(token, KIND)
    if parts is None:
        return None
    prefix, secret = parts
    stmt = select(UssdGateway).where(UssdGateway.prefix == prefix)
    gateway = (await session.execute(stmt)).scalar_one_or_none()
    if gateway is None or not tokens.secret_matches(keys, TOKEN_SCOPE, secret, gateway.secret_hash):
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
