"""Member sessions: rotating opaque refresh tokens with reuse detection.

Every refresh spends the token and returns a new one in the same family (session). A
token that was already spent coming back means it leaked: the whole session is revoked
and the error is committed, so neither the thief nor the member can continue with it.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, bindparam, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import as_utc
from app.errors import SessionRejected
from app.events import MemberDeleted
from app.keys import Keys
from app.members import service as members
from app.settings import Settings
from auth.models import MemberSession, RefreshToken
from auth.tokens import issue_access_token


@dataclass(frozen=True)
class IssuedSession:
    session_id: str
    member_id: int
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _new_refresh_token(
    session: AsyncSession, settings: Settings, session_id: str, now: datetime
) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=settings.refresh_token_ttl_days)
    session.add(
        RefreshToken(
            session_id=session_id, token_hash=_hash(token), created_at=now, expires_at=expires_at
        )
    )
    await session.flush()
    return token, expires_at


async def start_session(
    session: AsyncSession,
    keys: Keys,
    settings: Settings,
    *,
    member_id: int,
    member_public_id: str,
    channel: str,
    now: datetime,
) -> IssuedSession:
    """Sign a member in on a new device."""
    session_id = uuid.uuid4().hex
    session.add(
        MemberSession(
            id=session_id, member_id=member_id, channel=channel, created_at=now, last_used_at=now
        )
    )
    await session.flush()
    refresh, refresh_expires = await _new_refresh_token(session, settings, session_id, now)
    access, access_expires = issue_access_token(
        keys, settings, member_public_id=member_public_id, session_id=session_id, now=now
    )
    return IssuedSession(session_id, member_id, access, access_expires, refresh, refresh_expires)


async def rotate(
    session: AsyncSession, keys: Keys, settings: Settings, *, refresh_token: str, now: datetime
) -> IssuedSession:
    """Spend ``refresh_token`` and return a new access token and a new refresh token.

    Raises :class:`SessionRejected` for an unknown, expired or revoked token, or a
    deleted member; a reused token also revokes its session (kept on commit).
    """
    stmt = (
        select(RefreshToken, MemberSession)
        .join(MemberSession, MemberSession.id == RefreshToken.session_id)
        .where(RefreshToken.token_hash == _hash(refresh_token))
        .with_for_update(of=[RefreshToken, MemberSession])
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        raise SessionRejected()
    token, member_session = row
    member_public_id = await members.active_public_id(session, member_session.member_id)
    if member_session.revoked_at is not None or member_public_id is None:
        raise SessionRejected()
    if token.used_at is not None:
        member_session.revoked_at = now
        member_session.revoked_reason = "refresh_token_reused"
        await session.flush()
        raise SessionRejected(keep_changes=True)
    if as_utc(token.expires_at) <= now:
        raise SessionRejected()
    token.used_at = now
    member_session.last_used_at = now
    refresh, refresh_expires = await _new_refresh_token(session, settings, member_session.id, now)
    access, access_expires = issue_access_token(
        keys, settings, member_public_id=member_public_id, session_id=member_session.id, now=now
    )
    return IssuedSession(
        member_session.id,
        member_session.member_id,
        access,
        access_expires,
        refresh,
        refresh_expires,
    )


async def revoke_sessions(
    session: AsyncSession,
    *,
    member_id: int,
    now: datetime,
    reason: str,
    session_id: str | None = None,
) -> int:
    """End one session (``session_id``) or all of a member's sessions."""
    stmt = (
        update(MemberSession)
        .where(MemberSession.member_id == member_id, MemberSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    if session_id is not None:
        stmt = stmt.where(MemberSession.id == session_id)
    result = await session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def end_sessions_of_deleted_member(session: AsyncSession, event: MemberDeleted) -> None:
    """A deleted account signs out everywhere (same transaction as the deletion)."""
    await revoke_sessions(
        session, member_id=event.member_id, now=event.at, reason="account_deleted"
    )


async def is_live(session: AsyncSession, *, session_id: str, member_id: int) -> bool:
    """Whether the member's session ``session_id`` is not revoked (an access token is only
    good while its session lives)."""
    found = await session.scalar(
        select(MemberSession.id).where(
            MemberSession.id == session_id,
            MemberSession.member_id == member_id,
            MemberSession.revoked_at.is_(None),
        )
    )
    return found is not None


def live_session_condition(member_id: ColumnElement[int]) -> ColumnElement[bool]:
    """SQL for "session ``:session_id`` of the member ``member_id`` is not revoked": a door
    adds it to the statement that loads the signed-in member, so the session check rides
    in the same round trip (the same rule as :func:`is_live`)."""
    return exists().where(
        MemberSession.id == bindparam("session_id"),
        MemberSession.member_id == member_id,
        MemberSession.revoked_at.is_(None),
    )
