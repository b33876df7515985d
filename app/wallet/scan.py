"""What a till or kiosk scanned: a printed card number or a rotating app token -> the card.

Both the partner (POS) and kiosk doors call ``resolve_scanned_card``; a replayed, expired
token gets ``CARD_QR_EXPIRED`` so the cashier asks the member to reopen the app.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, InvalidInput, NotFound
from app.members.models import Card, CardStatus
from auth.keys import Keys
from wallet_passes.dynamic_qr import CardTokenExpired, CardTokenInvalid, resolve_scanned_card


async def resolve_card(session: AsyncSession, keys: Keys, scanned: str, now: datetime) -> Card:
    """The active card behind ``scanned`` (static number or dynamic token)."""
    try:
        number = resolve_scanned_card(keys.card_token_secret, scanned, now)
    except CardTokenExpired as exc:
        raise InvalidInput(ErrorCode.CARD_QR_EXPIRED, field="card") from exc
    except CardTokenInvalid as exc:
        raise InvalidInput(ErrorCode.CARD_QR_INVALID, field="card") from exc
    card = await session.scalar(
        select(Card).where(Card.number == number, Card.status == CardStatus.ACTIVE)
    )
    if card is None or card.member_id is None:
        raise NotFound(field="card")
    return card
