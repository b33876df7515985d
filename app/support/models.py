"""Member blocks and the operator audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class MemberBlock(Base):
    """A member support has blocked: one row while the block lasts (unblocking deletes it,
    the audit log keeps the history). A blocked member cannot earn or spend points."""

    __tablename__ = "member_blocks"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
    operator: Mapped[str] = mapped_column(String(80))
    blocked_at: Mapped[datetime]


class OperatorAuditEntry(Base):
    """One operator command that changes data: append-only (no service updates or deletes
    it; on PostgreSQL a trigger refuses UPDATE and DELETE)."""

    __tablename__ = "operator_audit"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(index=True)
    operator: Mapped[str] = mapped_column(String(80), index=True)
    command: Mapped[str] = mapped_column(String(80))
    arguments: Mapped[str] = mapped_column(Text)  # JSON object, secrets redacted
    outcome: Mapped[str] = mapped_column(String(300))
