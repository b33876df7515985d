"""Member blocks: support stops a member from earning and spending points.

A blocked member can still sign in and see their data (read-only: balance, receipts,
vouchers, their data export), so they can see why and contact support; every path that
changes their points (receipts, reward claims, voucher redemptions, prize exchanges,
kiosk check-ins) asks :func:`ensure_not_blocked` in its own transaction and refuses with
``MEMBER_BLOCKED``. Unblocking deletes the row; the operator audit log keeps the history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DomainError, ErrorCode, InvalidInput
from app.support.models import MemberBlock
from app.text import require_clean_text

MAX_REASON = 200


class MemberBlocked(DomainError):
    """The member is blocked by support: nothing about their points may change."""

    code = ErrorCode.MEMBER_BLOCKED


def check_reason(reason: str) -> str:
    """A block's (or an adjustment's) reason: plain text, 1 to 200 characters."""
    text = " ".join((reason or "").split())
    if not text or len(text) > MAX_REASON:
        raise InvalidInput(field="reason")
    return require_clean_text(text, "reason")


async def is_blocked(session: AsyncSession, member_id: int) -> bool:
    stmt = select(MemberBlock.member_id).where(MemberBlock.member_id == member_id)
    return (await session.scalar(stmt)) is not None


def blocked_column(member_id: Any) -> Any:
    """Whether the member ``member_id`` (a value or a column) is blocked, as a column a
    caller can read in its own statement (the receipt path reads it with the member)."""
    return exists().where(MemberBlock.member_id == member_id)


async def ensure_not_blocked(session: AsyncSession, member_id: int) -> None:
    """Raise :class:`MemberBlocked` if support blocked the member (one lookup by key)."""
    if await is_blocked(session, member_id):
        raise MemberBlocked(field="member")


async def block(
    session: AsyncSession, member_id: int, *, reason: str, operator: str, now: datetime
) -> bool:
    """Block the member; False if they were blocked already (the first reason stays)."""
    reason = check_reason(reason)
    if await is_blocked(session, member_id):
        return False
    session.add(MemberBlock(member_id=member_id, reason=reason, operator=operator, blocked_at=now))
    await session.flush()
    return True


async def unblock(session: AsyncSession, member_id: int, *, reason: str) -> bool:
    """Lift the block; False if the member was not blocked. ``reason`` is checked so the
    audit log always says why."""
    check_reason(reason)
    result = await session.execute(delete(MemberBlock).where(MemberBlock.member_id == member_id))
    return bool(getattr(result, "rowcount", 0))


async def block_of(session: AsyncSession, member_id: int) -> MemberBlock | None:
    return await session.get(MemberBlock, member_id)
