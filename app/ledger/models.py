"""The points ledger: append-only entries, the cached balance, and earned lots.

``points_entries`` is the truth; ``points_accounts`` caches it and is only changed in the
same transaction as the entry that explains the change. ``points_lots`` tracks what is
left of each credit so points can expire oldest first.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class EntryKind(enum.StrEnum):
    WELCOME_BONUS = "welcome_bonus"
    EARN = "earn"
    OFFER_BONUS = "offer_bonus"
    CHECK_IN = "check_in"
    GAME_PRIZE = "game_prize"
    REWARD_CLAIM = "reward_claim"
    PRIZE_EXCHANGE = "prize_exchange"
    EXPIRY = "expiry"
    REVERSAL = "reversal"
    ADJUSTMENT = "adjustment"


# Kinds that count towards lifetime points (what a member has earned, ever).
EARNING_KINDS = frozenset(
    {
        EntryKind.WELCOME_BONUS,
        EntryKind.EARN,
        EntryKind.OFFER_BONUS,
        EntryKind.CHECK_IN,
        EntryKind.GAME_PRIZE,
    }
)


class PointsAccount(Base):
    __tablename__ = "points_accounts"
    __table_args__ = (CheckConstraint("available >= 0", name="available_not_negative"),)

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    available: Mapped[int] = mapped_column(BigInteger, default=0)
    pending: Mapped[int] = mapped_column(BigInteger, default=0)
    lifetime: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]


class PointsEntry(Base):
    __tablename__ = "points_entries"
    __table_args__ = (Index("ix_points_entries_member_id_id", "member_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[EntryKind] = mapped_column(
        Enum(
            EntryKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
        )
    )
    delta: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    reference_type: Mapped[str | None] = mapped_column(String(40))
    reference_id: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(String(200))
    # Makes a posting idempotent: the same key never posts twice.
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]


class PointsLot(Base):
    __tablename__ = "points_lots"
    __table_args__ = (
        Index("ix_points_lots_member_id_expires_at", "member_id", "expires_at"),
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("points_entries.id"), unique=True)
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    earned_at: Mapped[datetime]
    expires_at: Mapped[datetime]
