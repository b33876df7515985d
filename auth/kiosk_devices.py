"""Kiosk credentials: one-time enrolment codes and device tokens.

``happy kiosk create`` makes a kiosk (core) and an enrolment code here: 10 symbols of an
alphabet without ambiguous characters (about 49.5 bits), shown as ``XXXXX-XXXXX``, valid
``kiosk_enrolment_code_hours`` (24 h), used once, stored as a keyed hash. The tablet
trades it for a device token ``hkd_<prefix>_<secret>`` (32 random bytes), shown once and
stored as a keyed hash like partner API keys. Whether the kiosk may still act (revoked,
store inactive) is the core's to say on every request (``app.kiosks.service``).
Enrolment attempts are limited per client address, so codes cannot be guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import as_utc
from app.environment import Environment
from app.errors import EnrolmentRejected, InvalidInput
from app.kiosks import service as kiosks
from app.limits import counters
from app.prizes import codes
from auth import prefixed_tokens as tokens
from auth.kiosk_device_models import KioskDeviceToken, KioskEnrolmentCode

ENROLMENT_CODE_LENGTH = 10
CODE_SCOPE = "kiosk-enrolment-code"
TOKEN_SCOPE = "kiosk-device-token"  # noqa: S105 (a hashing scope, not a secret)
KIND = "hkd"
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Wrong enrolment codes per client address per hour.
ENROLMENT_TRIES_PER_HOUR = 10


@dataclass(frozen=True)
class DeviceCredential:
    token_id: int
    kiosk_id: int
    last_used_at: datetime | None


@dataclass(frozen=True)
class Enrolled:
    device_token: str
    kiosk_id: int


def format_code(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


async def create_enrolment_code(
    session: AsyncSession, env: Environment, *, kiosk_id: int, now: datetime
) -> tuple[str, datetime]:
    """A new one-time code for the kiosk (shown once); returns it with its expiry."""
    code = codes.new_code(ENROLMENT_CODE_LENGTH)
    expires_at = now + timedelta(hours=env.settings.kiosk_enrolment_code_hours)
    session.add(
        KioskEnrolmentCode(
            code_hash=env.keys.hash_code(CODE_SCOPE, code),
            kiosk_id=kiosk_id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    await session.flush()
    return format_code(code), expires_at


async def enrol(
    session: AsyncSession,
    env: Environment,
    *,
    code: str,
    device_name: str,
    client_address: str,
    now: datetime,
) -> Enrolled:
    """Trade an enrolment code for a device token, once."""
    device_name = (device_name or "").strip()
    if not device_name or len(device_name) > 80:
        raise InvalidInput(field="deviceName")
    await counters.check(
        session,
        scope="kiosk_enrol_miss",
        key=client_address,
        limit=ENROLMENT_TRIES_PER_HOUR,
        window_seconds=3600,
        now=now,
        field="code",
    )
    typed = codes.normalise(code)
    table = cast(Table, KioskEnrolmentCode.__table__)
    # One guarded UPDATE marks the code used: of two tablets typing it at once, one wins.
    used = None
    if len(typed) == ENROLMENT_CODE_LENGTH:
        used = (
            await session.execute(
                update(table)
                .where(
                    table.c.code_hash == env.keys.hash_code(CODE_SCOPE, typed),
                    table.c.used_at.is_(None),
                    table.c.expires_at > now,
                )
                .values(used_at=now)
                .returning(table.c.kiosk_id)
            )
        ).scalar_one_or_none()
    kiosk = await kiosks.kiosk_for_enrolment(session, used) if used is not None else None
    if kiosk is None:
        await counters.hit(
            session,
            scope="kiosk_enrol_miss",
            key=client_address,
            limit=ENROLMENT_TRIES_PER_HOUR,
            window_seconds=3600,
            now=now,
        )
        raise EnrolmentRejected(field="code", keep_changes=True)
    await kiosks.mark_enrolled(session, kiosk.id, device_name, now)
    issued = tokens.new_token(env.keys, KIND, TOKEN_SCOPE)
    session.add(
        KioskDeviceToken(
            prefix=issued.prefix,
            secret_hash=issued.secret_hash,
            kiosk_id=kiosk.id,
            created_at=now,
        )
    )
    await session.flush()
    return Enrolled(issued.token, kiosk.id)


async def authenticate(
    session: AsyncSession, env: Environment, token: str
) -> DeviceCredential | None:
    """The credential behind a device token, or None (unknown or malformed)."""
    parts = tokens.split(token, KIND)
    if parts is None:
        return None
    prefix, secret = parts
    row = (
        await session.execute(select(KioskDeviceToken).where(KioskDeviceToken.prefix == prefix))
    ).scalar_one_or_none()
    if row is None or not tokens.secret_matches(env.keys, TOKEN_SCOPE, secret, row.secret_hash):
        return None
    return DeviceCredential(row.id, row.kiosk_id, row.last_used_at)


async def touch(session: AsyncSession, credential: DeviceCredential, now: datetime) -> None:
    """Record that the tablet was used (at most once per ``LAST_USED_RESOLUTION``)."""
    if credential.last_used_at is not None and now - as_utc(credential.last_used_at) < (
        LAST_USED_RESOLUTION
    ):
        return
    table = cast(Table, KioskDeviceToken.__table__)
    await session.execute(
        update(table)
        .where(
            table.c.id == credential.token_id,
            or_(
                table.c.last_used_at.is_(None),
                table.c.last_used_at < now - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
    )
