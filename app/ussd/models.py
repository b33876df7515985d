"""USSD sessions, the values they remember and the replies they gave (for resends).

All three live only as long as the gateway's session (``expires_at``, a few minutes) and
are purged after it, so any replica can answer the next request of a dialogue and none
keeps a phone number longer than the dialogue needs it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class UssdSession(Base):
    """One dialogue of one gateway. ``(gateway_key, session_id)`` is unique: every request
    of the dialogue, on any replica, finds the same row."""

    __tablename__ = "ussd_sessions"
    __table_args__ = (UniqueConstraint("gateway_key", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway_key: Mapped[str] = mapped_column(String(40))
    session_id: Mapped[str] = mapped_column(String(100))
    phone_e164: Mapped[str] = mapped_column(String(16))
    # Whether the number was a member when the dialogue began: the first menu (welcome or
    # main) is decided once, so the same ``text`` always walks the same menus.
    started_as_member: Mapped[bool]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class UssdSessionValue(Base):
    """Something a screen showed that a later answer depends on (the reward levels offered,
    where the next page of vouchers starts). The first write wins, so a resend sees what the
    first request saw."""

    __tablename__ = "ussd_session_values"

    session_pk: Mapped[int] = mapped_column(
        ForeignKey("ussd_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class UssdReply(Base):
    """The screen given for one ``text`` of a dialogue: a resend gets it again."""

    __tablename__ = "ussd_replies"

    session_pk: Mapped[int] = mapped_column(
        ForeignKey("ussd_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reply: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
