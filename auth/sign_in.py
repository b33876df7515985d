"""Signing in by SMS code: send a code, check it, register on first success, start a
session. The credential rules (codes, tries, per-address limits, sessions) are here; who
a member is and what registering gives them is the core's (``app.members.service``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from app import i18n
from app.db import on_commit
from app.errors import ErrorCode, InvalidInput
from app.limits import counters
from app.members import service as members
from app.runtime import Runtime
from auth import otp
from auth.sessions import IssuedSession, start_session

if TYPE_CHECKING:
    from app.members.models import Member, RegistrationChannel

HOUR = 3600


@dataclass(frozen=True)
class CodeSent:
    phone: str
    expires_at: datetime
    resend_after_seconds: int


@dataclass(frozen=True)
class SignedIn:
    member: Member
    session: IssuedSession
    is_new_member: bool


async def request_code(
    session: AsyncSession,
    runtime: Runtime,
    *,
    phone: str,
    client_address: str,
    language: str,
    now: datetime,
) -> CodeSent:
    """Send a sign-in code to ``phone`` (after commit), within the rate limits."""
    e164 = members.parse_phone(runtime, phone)
    await counters.hit(
        session,
        scope="otp_send_ip",
        key=client_address,
        limit=runtime.settings.otp_sends_per_ip_per_hour,
        window_seconds=HOUR,
        now=now,
    )
    policy = otp.OtpPolicy.from_settings(runtime.settings)
    phone_hash = runtime.keys.hash_phone(e164)
    issued = await otp.issue_code(session, runtime.keys, policy, phone_hash, now)
    text = i18n.translate(
        "sms.otp",
        await members.language_of_number(session, e164) or language,
        code=issued.code,
        minutes=policy.ttl_seconds // 60,
    )

    async def deliver() -> None:
        await runtime.sms.send(e164, text)

    on_commit(session, deliver)
    return CodeSent(e164, issued.expires_at, issued.resend_after_seconds)


async def sign_in_with_code(
    session: AsyncSession,
    runtime: Runtime,
    *,
    phone: str,
    code: str,
    channel: RegistrationChannel,
    client_address: str,
    language: str,
    now: datetime,
) -> SignedIn:
    """Check the code; register the member on first success; start a session."""
    e164 = members.parse_phone(runtime, phone)
    if not re.fullmatch(r"\s*\d{6}\s*", code or ""):
        raise InvalidInput(ErrorCode.CODE_INVALID, field="code", attempts_left=0)
    await counters.hit(
        session,
        scope="otp_verify_ip",
        key=client_address,
        limit=runtime.settings.otp_verifies_per_ip_per_hour,
        window_seconds=HOUR,
        now=now,
    )
    policy = otp.OtpPolicy.from_settings(runtime.settings)
    phone_hash = runtime.keys.hash_phone(e164)
    await otp.check_code(session, runtime.keys, policy, phone_hash, code, now)
    member, is_new = await members.register(
        session, runtime, phone_e164=e164, channel=channel, language=language, now=now
    )
    issued = await start_session(
        session,
        runtime.keys,
        runtime.settings,
        member_id=member.id,
        member_public_id=member.public_id,
        channel=channel.value,
        now=now,
    )
    return SignedIn(member=member, session=issued, is_new_member=is_new)
