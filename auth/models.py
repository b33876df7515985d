"""One-time codes, member sessions with rotating refresh tokens, rate-limit counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class OtpChallenge(Base):
    """The current one-time code of a phone number (one row per number, locked while used).

    ``recent_sends`` keeps the send times of the last hour, so the per-number limits are
    exact sliding windows rather than fixed buckets.
    """

    __tablename__ = "otp_challenges"

    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None]
    recent_sends: Mapped[list[str]] = mapped_column(JSON, default=list)


class MemberSession(Base):
    """A signed-in device: one family of rotating refresh tokens."""

    __tablename__ = "member_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("member_sessions.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
