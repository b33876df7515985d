"""Six-digit one-time codes sent by SMS to prove a phone number.

Rules (SPEC "Registration and identity"): valid for ``otp_ttl_seconds`` (5 min), at most
``otp_max_attempts`` (5) tries per code, a resend not sooner than ``otp_resend_seconds``
(30 s), at most ``otp_max_sends_per_hour`` (5) codes per number per hour. Codes come
from :mod:`secrets`, are stored as a keyed hash and compared in constant time.

Each phone number has one challenge row that is locked for the whole check
(``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so concurrent
tries, even aliased in one GraphQL request, are counted one by one and never exceed the
limit.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import as_utc
from app.db import insert_ignoring_conflicts
from app.errors import CodeRejected, ErrorCode, RateLimited
from app.keys import Keys
from app.settings import Settings
from auth.models import OtpChallenge

CODE_DIGITS = 6
SEND_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class OtpPolicy:
    ttl_seconds: int
    max_attempts: int
    resend_seconds: int
    max_sends_per_hour: int

    @classmethod
    def from_settings(cls, settings: Settings) -> OtpPolicy:
        return cls(
            ttl_seconds=settings.otp_ttl_seconds,
            max_attempts=settings.otp_max_attempts,
            resend_seconds=settings.otp_resend_seconds,
            max_sends_per_hour=settings.otp_max_sends_per_hour,
        )


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: datetime
    resend_after_seconds: int


async def _locked_challenge(session: AsyncSession, phone_hash: str) -> OtpChallenge:
    await session.execute(
        insert_ignoring_conflicts(
            session,
            OtpChallenge.__table__,
            {"phone_hash": phone_hash, "attempts": 0, "recent_sends": []},
            ("phone_hash",),
        )
    )
    stmt = (
        select(OtpChallenge)
        .where(OtpChallenge.phone_hash == phone_hash)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one()


async def issue_code(
    session: AsyncSession, keys: Keys, policy: OtpPolicy, phone_hash: str, now: datetime
) -> IssuedCode:
    """A new code for the number, replacing any earlier one; raises :class:`RateLimited`."""
    challenge = await _locked_challenge(session, phone_hash)
    sends = sorted(
        sent
        for sent in (as_utc(datetime.fromisoformat(s)) for s in challenge.recent_sends or [])
        if now - sent < SEND_WINDOW
    )
    if sends:
        since_last = (now - sends[-1]).total_seconds()
        if since_last < policy.resend_seconds:
            raise RateLimited(retry_after=max(1, int(policy.resend_seconds - since_last + 0.999)))
    if len(sends) >= policy.max_sends_per_hour:
        oldest = sends[-policy.max_sends_per_hour]
        raise RateLimited(retry_after=max(1, int((oldest + SEND_WINDOW - now).total_seconds())))

    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    challenge.code_hash = keys.hash_code(phone_hash, code)
    challenge.created_at = now
    challenge.expires_at = now + timedelta(seconds=policy.ttl_seconds)
    challenge.attempts = 0
    challenge.consumed_at = None
    challenge.recent_sends = [s.isoformat() for s in [*sends, now]]
    await session.flush()
    return IssuedCode(
        code=code, expires_at=challenge.expires_at, resend_after_seconds=policy.resend_seconds
    )


async def check_code(
    session: AsyncSession,
    keys: Keys,
    policy: OtpPolicy,
    phone_hash: str,
    code: str,
    now: datetime,
) -> None:
    """Accept ``code`` once, or raise :class:`CodeRejected` (the spent try is kept)."""
    challenge = await _locked_challenge(session, phone_hash)
    if challenge.code_hash is None or challenge.expires_at is None:
        raise CodeRejected(ErrorCode.CODE_EXPIRED)
    if challenge.attempts >= policy.max_attempts:
        raise CodeRejected(ErrorCode.TOO_MANY_ATTEMPTS)
    if as_utc(challenge.expires_at) <= now:
        raise CodeRejected(ErrorCode.CODE_EXPIRED)
    challenge.attempts += 1
    candidate = keys.hash_code(phone_hash, code.strip())
    if not hmac.compare_digest(candidate, challenge.code_hash):
        await session.flush()
        left = policy.max_attempts - challenge.attempts
        raise CodeRejected(
            ErrorCode.CODE_INVALID if left > 0 else ErrorCode.TOO_MANY_ATTEMPTS, attempts_left=left
        )
    challenge.code_hash = None
    challenge.consumed_at = now
    await session.flush()
