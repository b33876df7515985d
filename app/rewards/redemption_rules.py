"""What a redemption is worth and whether it needs the member's confirmation (issue 14).

Both come from programme data: the exchange rate of the day (``app.fx``) and the
programme's ``redemption_confirmation_eur`` threshold. A voucher worth the threshold or
more (compared in EUR) is only redeemed after the member's SMS code is checked; the code
itself is the credentials layer's business (``auth.redemption_codes``), so the core only
says :class:`ConfirmationNeeded`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.callers import StoreCaller
from app.errors import ConfirmationNeeded
from app.fx import service as fx
from app.programme.models import Programme
from app.rewards.models import Voucher


def needs_confirmation(eur_amount: int, threshold: int | None) -> bool:
    """Whether a voucher worth ``eur_amount`` EUR minor units needs the member's code."""
    return threshold is not None and eur_amount >= threshold


async def value_at_redemption(
    session: AsyncSession,
    voucher: Voucher,
    caller: StoreCaller,
    now: datetime,
    *,
    programme: Programme,
    confirmed: bool,
) -> fx.Converted:
    """The voucher's value in EUR and the store's currency on the programme day of ``now``.

    Raises ``EXCHANGE_RATE_MISSING`` (no rate for the store's currency) and, unless
    ``confirmed``, :class:`ConfirmationNeeded` for a voucher at or above the threshold.
    ``programme`` is the row as read now (:func:`app.programme.service.current_programme`),
    not the per-process cache: a lowered threshold holds at once everywhere.
    """
    day = fx.programme_day(now, programme.timezone)
    converted = await fx.to_store_currency(
        session, voucher.value_amount, voucher.currency, caller.store_currency, day
    )
    if not confirmed and needs_confirmation(
        converted.eur_amount, programme.redemption_confirmation_eur
    ):
        raise ConfirmationNeeded(voucher_id=voucher.id, member_id=voucher.member_id)
    return converted
