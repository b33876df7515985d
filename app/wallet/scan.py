"""What a till or kiosk scanned: a printed card number or a rotating app token -> the card.

The partner (POS) door calls it through ``app.receipts.service.identify_member``, and the
kiosk door will too. A replayed, expired token gets ``CARD_TOKEN_EXPIRED`` so the cashier
asks the member to reopen the app; anything else that leads to no active card gets
``CARD_NOT_FOUND``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, MemberNotIdentified
from app.keys import Keys
from app.members.models import Card, CardStatus, Member, MemberStatus
from wallet_passes.dynamic_qr import (
    CardTokenExpired,
    CardTokenInvalid,
    CardTokenNotYetValid,
    resolve_scanned_card,
)


async def resolve_member(
    session: AsyncSession, keys: Keys, scanned: str, at: datetime, *, field: str = "cardNumber"
) -> Member:
    """The active member whose active card is behind ``scanned`` (number or token).

    A rotating token must have been alive ``at`` the moment of the sale (a receipt's
    ``issuedAt``), so a token scanned at the till and uploaded later in a batch counts;
    a token outside its life at that moment is ``CARD_TOKEN_EXPIRED``.
    """
    member, _ = await resolve_member_card(session, keys, scanned, at, field=field)
    return member


async def resolve_member_card(
    session: AsyncSession, keys: Keys, scanned: str, at: datetime, *, field: str = "cardNumber"
) -> tuple[Member, str]:
    """:func:`resolve_member` and the number of the card that was scanned."""
    try:
        number = resolve_scanned_card(keys.card_token_secret, scanned, at)
    except (CardTokenExpired, CardTokenNotYetValid) as exc:
        raise MemberNotIdentified(ErrorCode.CARD_TOKEN_EXPIRED, field=field) from exc
    except CardTokenInvalid as exc:
        raise MemberNotIdentified(field=field) from exc
    stmt = (
        select(Member)
        .join(Card, Card.member_id == Member.id)
        .where(
            Card.number == number,
            Card.status == CardStatus.ACTIVE,
            Member.status == MemberStatus.ACTIVE,
        )
    )
    member = (await session.execute(stmt)).scalar_one_or_none()
    if member is None:
        raise MemberNotIdentified(field=field)
    return member, number
