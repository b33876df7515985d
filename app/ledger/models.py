"""The points ledger: append-only entries, the cached balance, and earned lots.

``points_entries`` is the truth; ``points_accounts`` caches it and is only changed in the
same transaction as the entry that explains the change. ``points_lots`` tracks what is
left of each credit (and who funded it: a partner, or the programme) so points can expire
oldest first; ``points_consumptions`` records which lots each debit took its points from,
so what is spent, expired or refunded is attributed to the lot's funder (settlement).
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
    # Who pays for these points (settlement): a partner, or NULL for the programme. A
    # foreign key by table name only: the ledger imports no other capability.
    funded_by_partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))


class PointsConsumption(Base):
    """Points one debit entry took from one lot. For every lot,
    ``points - sum(consumed) == remaining`` (``happy ledger check``).

    ``entry_id`` is NULL only for what lots had lost before consumptions were recorded
    (migration 0012 replays history where it can and records the rest this way)."""

    __tablename__ = "points_consumptions"
    __table_args__ = (CheckConstraint("points > 0", name="points_positive"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("points_entries.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("points_lots.id"), index=True)
    points: Mapped[int] = mapped_column(BigInteger)
