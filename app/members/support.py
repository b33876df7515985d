"""Support's view of members (``happy member find|block|unblock``, ``happy points adjust``).

Support names a member by their public id (``members.public_id``) or a card number,
never an internal id; what it prints is masked (phone ``+35569*****67``, name ``A.``), so
a support screen shared or logged does not leak contact data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.environment import Environment
from app.errors import InvalidInput, NotFound
from app.ledger import service as ledger
from app.ledger.models import EntryKind, PointsAccount
from app.members.cards import mask_card_number
from app.members.models import Card, CardStatus, Member, MemberStatus
from app.members.phone import normalise_phone
from app.members.plastic_cards import normalise_number
from app.programme.service import get_programme, points_expire_at
from app.support import blocks
from app.support.models import MemberBlock

MAX_ADJUSTMENT = 1_000_000


@dataclass(frozen=True, slots=True)
class MemberCard:
    number: str
    kind: str
    status: str


@dataclass(frozen=True, slots=True)
class SupportView:
    public_id: str
    masked_phone: str
    masked_name: str
    status: str
    available: int
    blocked_reason: str | None
    cards: tuple[MemberCard, ...]


@dataclass(frozen=True, slots=True)
class Adjustment:
    public_id: str
    delta: int
    balance_after: int
    entry_id: int


def mask_phone(e164: str | None) -> str:
    """``+355691234567`` -> ``+35569*****67``: country and operator, the last two digits."""
    if not e164:
        return "-"
    keep_head = min(6, max(len(e164) - 4, 1))
    return e164[:keep_head] + "*" * (len(e164) - keep_head - 2) + e164[-2:]


def mask_name(first: str | None, last: str | None) -> str:
    initials = [f"{part.strip()[0]}." for part in (first, last) if part and part.strip()]
    return " ".join(initials) or "-"


async def find_member(
    session: AsyncSession, runtime: Environment, *, phone: str | None, card: str | None
) -> Member:
    """The member with this phone number (any format) or card number; :class:`NotFound`
    (field ``member``) if there is none. Deleted accounts are not found."""
    stmt = select(Member).where(Member.status == MemberStatus.ACTIVE)
    if phone is not None:
        e164 = normalise_phone(
            phone,
            default_region=runtime.settings.default_region,
            allowed_regions=runtime.settings.allowed_regions,
        )
        stmt = stmt.where(Member.phone_e164 == e164)
    elif card is not None:
        stmt = stmt.join(Card, Card.member_id == Member.id).where(
            Card.number == normalise_number(card)
        )
    else:
        raise InvalidInput(field="member")
    member = await session.scalar(stmt)
    if member is None:
        raise NotFound(field="member")
    return member


async def resolve_member(session: AsyncSession, reference: str) -> Member:
    """The active member named by a public id or by one of their card numbers."""
    text = reference.strip()
    number = normalise_number(text)
    if number.isdigit():
        stmt = (
            select(Member)
            .join(Card, Card.member_id == Member.id)
            .where(Card.number == number, Member.status == MemberStatus.ACTIVE)
        )
    else:
        stmt = select(Member).where(Member.public_id == text, Member.status == MemberStatus.ACTIVE)
    member = await session.scalar(stmt)
    if member is None:
        raise NotFound(field="member")
    return member


async def support_view(session: AsyncSession, member: Member) -> SupportView:
    """What support sees of one member, masked: three lookups by key."""
    account = await session.get(PointsAccount, member.id)
    block = await session.get(MemberBlock, member.id)
    cards = await session.scalars(
        select(Card).where(Card.member_id == member.id).order_by(Card.linked_at, Card.id)
    )
    return SupportView(
        public_id=member.public_id,
        masked_phone=mask_phone(member.phone_e164),
        masked_name=mask_name(member.first_name, member.last_name),
        status="blocked" if block is not None else member.status.value,
        available=account.available if account is not None else 0,
        blocked_reason=block.reason if block is not None else None,
        cards=tuple(
            MemberCard(mask_card_number(c.number), c.kind.value, c.status.value)
            for c in cards
            if c.status != CardStatus.UNASSIGNED
        ),
    )


async def adjust_points(
    session: AsyncSession,
    reference: str,
    *,
    delta: int,
    reason: str,
    operator: str,
    now: datetime,
) -> Adjustment:
    """Support's correction of a balance: one ADJUSTMENT ledger entry carrying the reason
    and the operator. A debit needs the points (``INSUFFICIENT_POINTS`` otherwise: a
    balance never goes below zero); a credit opens a lot that expires like earned points."""
    if delta == 0 or abs(delta) > MAX_ADJUSTMENT:
        raise InvalidInput(field="points", maximum=MAX_ADJUSTMENT)
    reason = blocks.check_reason(reason)
    member = await resolve_member(session, reference)
    expires_at = None
    if delta > 0:
        expires_at = points_expire_at(await get_programme(session), now)
    entry = await ledger.post(
        session,
        member_id=member.id,
        kind=EntryKind.ADJUSTMENT,
        delta=delta,
        now=now,
        expires_at=expires_at,
        reference_type="operator",
        reference_id=operator[:80],
        description=reason,
    )
    return Adjustment(member.public_id, delta, entry.balance_after, entry.id)
