"""What a till or kiosk scanned: a printed card number or a rotating app token -> the card.

The partner (POS) door builds its own statement from :func:`member_by_card`
(``app.receipts.service.identify_member``); the kiosk door calls :func:`resolve_member`.
A replayed, expired token gets ``CARD_TOKEN_EXPIRED`` so the cashier
asks the member to reopen the app; anything else that leads to no active card gets
``CARD_NOT_FOUND``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
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
    number = scanned_card_number(keys, scanned, at, field=field)
    member = (await session.execute(member_by_card(number))).scalar_one_or_none()
    if member is None:
        raise MemberNotIdentified(field=field)
    return member, number


def scanned_card_number(
    keys: Keys, scanned: str, at: datetime, *, field: str = "cardNumber"
) -> str:
    """The card number behind ``scanned`` (a printed number, or a token alive ``at``);
    checked without the database."""
    try:
        return resolve_scanned_card(keys.card_token_secret, scanned, at)
    except (CardTokenExpired, CardTokenNotYetValid) as exc:
        raise MemberNotIdentified(ErrorCode.CARD_TOKEN_EXPIRED, field=field) from exc
    except CardTokenInvalid as exc:
        raise MemberNotIdentified(field=field) from exc


def member_by_card(number: str, *columns: Any) -> Select[Any]:
    """The active member whose active card is ``number`` (and ``columns`` beside them: a
    caller reads what it needs of the member in the same statement)."""
    return (
        select(Member, *columns)
        .join(Card, Card.member_id == Member.id)
        .where(
            Card.number == number,
            Card.status == CardStatus.ACTIVE,
            Member.status == MemberStatus.ACTIVE,
        )
    )
