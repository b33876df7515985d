"""What a till may see of a member before the sale: ``member(scan)`` on the partner door.

Only what a cashier needs: the scanned card (masked to its last four digits), the first
name, available points, and the vouchers usable at this store now (active, unexpired, not
restricted to another partner) with their value in EUR and in the store's currency at the
rate of the day. Never the phone, never receipts.

A scan that leads to no member counts against the API key's limit like an unknown phone
(``CARD_SCAN_MISSES``), so a key cannot walk card numbers to find members.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.callers import StoreCaller
from app.errors import MemberNotIdentified
from app.fx import service as fx
from app.keys import Keys
from app.ledger import service as ledger
from app.limits import service as limits
from app.members.cards import mask_card_number
from app.programme.service import get_programme
from app.rewards.models import Voucher, VoucherStatus
from app.wallet.scan import resolve_member_card

MAX_SCAN_LENGTH = 512


@dataclass(frozen=True)
class TillVoucher:
    code: str
    value_amount: int
    currency: str
    eur_amount: int
    store_amount: int
    store_currency: str
    expires_at: datetime


@dataclass(frozen=True)
class TillMember:
    masked_card_number: str
    first_name: str | None
    available_points: int
    vouchers: list[TillVoucher]


async def lookup_member(
    session: AsyncSession, keys: Keys, caller: StoreCaller, scanned: str, now: datetime
) -> TillMember:
    """The member behind a scanned card number or app token, as a till sees them."""
    await limits.ensure_left(session, limits.CARD_SCAN_MISSES, caller, now)
    try:
        if not scanned or len(scanned) > MAX_SCAN_LENGTH:
            raise MemberNotIdentified(field="scan")
        member, number = await resolve_member_card(session, keys, scanned, now, field="scan")
    except MemberNotIdentified as exc:
        await limits.count_failure(session, limits.CARD_SCAN_MISSES, caller, now)
        exc.keep_changes = True  # the miss is counted even though the lookup fails
        raise
    balance = await ledger.get_balance(session, member.id)
    vouchers = list(
        (
            await session.execute(
                select(Voucher)
                .where(
                    Voucher.member_id == member.id,
                    Voucher.status == VoucherStatus.ISSUED,
                    Voucher.expires_at > now,
                    Voucher.partner_id.is_(None) | (Voucher.partner_id == caller.partner_id),
                )
                .order_by(Voucher.expires_at, Voucher.id)
            )
        ).scalars()
    )
    rates: dict[str, Decimal] = {}
    if vouchers:
        day = fx.programme_day(now, (await get_programme(session)).timezone)
        needed = {v.currency.upper() for v in vouchers} | {caller.store_currency.upper()}
        rates = await fx.rates_of_day(session, needed - {fx.BASE_CURRENCY}, day)
    return TillMember(
        masked_card_number=mask_card_number(number),
        first_name=member.first_name,
        available_points=balance.available,
        vouchers=[
            TillVoucher(
                code=v.code,
                value_amount=v.value_amount,
                currency=v.currency,
                eur_amount=fx.convert(v.value_amount, v.currency, fx.BASE_CURRENCY, rates),
                store_amount=fx.convert(v.value_amount, v.currency, caller.store_currency, rates),
                store_currency=caller.store_currency,
                expires_at=v.expires_at,
            )
            for v in vouchers
        ],
    )
