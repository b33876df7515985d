"""Pending confirmations of large redemptions: who asked, and whom to send the code.

The rule that a voucher needs confirmation is the rewards capability's
(``app.rewards.redemption_rules``); the SMS code is the credentials layer's
(``auth.redemption_codes``, which calls this module). Here: the pending row that binds a
confirmation to the store that asked for it, and the member's number and language for
the SMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.callers import StoreCaller
from app.clock import as_utc
from app.db import insert_ignoring_conflicts
from app.errors import ErrorCode, VoucherRejected
from app.fx.service import format_money
from app.members.models import Member, MemberStatus
from app.partners.models import Store
from app.redemptions.models import VoucherConfirmation
from app.rewards.models import Voucher


@dataclass(frozen=True)
class ConfirmationContact:
    """Where and how to ask the member: their number, language, and the SMS's facts."""

    phone_e164: str
    language: str
    value: str  # "9.60 EUR"
    store_name: str


async def contact_for(
    session: AsyncSession, caller: StoreCaller, voucher_id: int
) -> ConfirmationContact:
    """The voucher owner's number and language (an owner without one cannot confirm)."""
    row = (
        await session.execute(
            select(Member.phone_e164, Member.language, Voucher.value_amount, Voucher.currency)
            .join(Voucher, Voucher.member_id == Member.id)
            .where(Voucher.id == voucher_id, Member.status == MemberStatus.ACTIVE)
        )
    ).one_or_none()
    if row is None or row.phone_e164 is None:
        raise VoucherRejected(ErrorCode.VOUCHER_NOT_FOUND, field="code")
    store = await session.get(Store, caller.store_id)
    assert store is not None
    return ConfirmationContact(
        row.phone_e164, row.language, format_money(row.value_amount, row.currency), store.name
    )


def waiting_at(pending: VoucherConfirmation, caller: StoreCaller, now: datetime) -> bool:
    """Whether ``pending`` waits for a code at the caller's store now."""
    return (
        pending.store_id == caller.store_id
        and pending.confirmed_at is None
        and as_utc(pending.expires_at) > now
    )


async def lock_for_request(
    session: AsyncSession, caller: StoreCaller, voucher_id: int, now: datetime
) -> VoucherConfirmation:
    """The voucher's pending confirmation, locked (created, not yet waiting, if missing).

    Locked before the code's challenge, in the same order as a confirmation takes them,
    so a request and a confirmation of one voucher never deadlock."""
    await session.execute(
        insert_ignoring_conflicts(
            session,
            VoucherConfirmation.__table__,
            {
                "voucher_id": voucher_id,
                "store_id": caller.store_id,
                "partner_id": caller.partner_id,
                "requested_at": now,
                "expires_at": now,
            },
            ("voucher_id",),
        )
    )
    pending = await locked(session, voucher_id)
    assert pending is not None
    return pending


async def bind(
    session: AsyncSession,
    pending: VoucherConfirmation,
    caller: StoreCaller,
    *,
    expires_at: datetime,
    now: datetime,
) -> None:
    """Bind the (locked) pending confirmation to the caller's store with the new code's
    expiry: a code sent for this store's till confirms only here."""
    pending.store_id = caller.store_id
    pending.partner_id = caller.partner_id
    pending.requested_at = now
    pending.expires_at = expires_at
    pending.confirmed_at = None
    await session.flush()


async def locked(session: AsyncSession, voucher_id: int) -> VoucherConfirmation | None:
    """The voucher's pending confirmation, locked for the rest of the transaction."""
    stmt = (
        select(VoucherConfirmation)
        .where(VoucherConfirmation.voucher_id == voucher_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def check_waiting(pending: VoucherConfirmation | None, caller: StoreCaller) -> None:
    """Raise ``CONFIRMATION_NOT_FOUND`` unless a confirmation waits at the caller's store
    (another store's pending confirmation is not this caller's business)."""
    if pending is None or pending.store_id != caller.store_id or pending.confirmed_at is not None:
        raise VoucherRejected(ErrorCode.CONFIRMATION_NOT_FOUND, field="code")


def mark_confirmed(pending: VoucherConfirmation, now: datetime) -> None:
    pending.confirmed_at = now
