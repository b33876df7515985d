"""Plastic cards: batches the operator issues for print, and members linking them.

Numbers: 16 digits, Luhn check digit, like digital cards. Digital cards start with the
programme's ``card_prefix`` (7001); plastic cards start with a batch prefix of 4 to 6
digits that must not overlap it (default ``7002``), so a plastic number can never equal a
digital one, and the 9+ random digits after the prefix keep numbers from being guessed
(a member's failed link attempts are limited besides). A batch's cards are
``UNASSIGNED`` until a member links one (``ACTIVE``, with ``member_id``); from then on it
identifies the member like the digital card (``app.wallet.scan.resolve_member``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.callers import StoreCaller
from app.errors import DomainError, ErrorCode, InvalidInput, MemberNotIdentified
from app.limits import counters
from app.limits import service as limits
from app.limits.service import Limit
from app.members.cards import CARD_LENGTH, is_valid_card_number, new_card_number
from app.members.models import Card, CardBatch, CardKind, CardStatus, Member, MemberStatus
from app.programme.service import get_programme

DEFAULT_PLASTIC_PREFIX = "7002"
MAX_BATCH = 100_000
INSERT_CHUNK = 1000
# A member trying card numbers that are unknown, closed or taken is stopped: cards must
# not be enumerable through the app.
LINK_FAILURES = 10
LINK_FAILURE_WINDOW_SECONDS = 60 * 60
LINK_FAILURE_SCOPE = "card_link_miss"


class CardRejected(DomainError):
    """A card number that cannot be linked (unknown, already linked, closed)."""

    code = ErrorCode.CARD_NOT_FOUND


@dataclass(frozen=True, slots=True)
class IssuedBatch:
    batch_id: str
    prefix: str
    count: int
    created_at: datetime
    numbers: list[str]


@dataclass(frozen=True, slots=True)
class BatchSummary:
    batch_id: str
    prefix: str
    count: int
    linked: int
    operator: str
    created_at: datetime


def normalise_number(text: str) -> str:
    """A card number as printed (``7002 1234 5678 9012``) or typed, without separators."""
    return "".join(c for c in text if c not in " -\t")


def printed(number: str) -> str:
    """The number as printed on the card: groups of four."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def check_prefix(prefix: str, digital_prefix: str) -> str:
    prefix = prefix.strip()
    if not (4 <= len(prefix) <= 6 and prefix.isascii() and prefix.isdigit()):
        raise InvalidInput(field="prefix")
    if prefix.startswith(digital_prefix) or digital_prefix.startswith(prefix):
        # It would share numbers with the digital cards.
        raise InvalidInput(ErrorCode.CONFLICT, field="prefix", digital=digital_prefix)
    return prefix


async def create_batch(
    session: AsyncSession, *, count: int, prefix: str | None, operator: str, now: datetime
) -> IssuedBatch:
    """``count`` new unassigned plastic cards with random numbers under ``prefix``, recorded
    as one batch; numbers already in use (any card) are drawn again."""
    if not 1 <= count <= MAX_BATCH:
        raise InvalidInput(field="count", maximum=MAX_BATCH)
    programme = await get_programme(session)
    prefix = check_prefix(prefix or DEFAULT_PLASTIC_PREFIX, programme.card_prefix)
    batch_id = f"B{now:%Y%m%d}-{secrets.token_hex(3).upper()}"
    numbers: set[str] = set()
    while len(numbers) < count:
        wanted = count - len(numbers)
        drawn = sorted({new_card_number(prefix) for _ in range(wanted)} - numbers)
        for start in range(0, len(drawn), INSERT_CHUNK):
            chunk = drawn[start : start + INSERT_CHUNK]
            taken = set(await session.scalars(select(Card.number).where(Card.number.in_(chunk))))
            numbers.update(n for n in chunk if n not in taken)
    ordered = sorted(numbers)[:count]
    session.add(
        CardBatch(public_id=batch_id, count=count, prefix=prefix, operator=operator, created_at=now)
    )
    table = cast(Table, Card.__table__)
    for start in range(0, len(ordered), INSERT_CHUNK):
        await session.execute(
            insert(table),
            [
                {
                    "number": number,
                    "member_id": None,
                    "kind": CardKind.PLASTIC.value,
                    "status": CardStatus.UNASSIGNED.value,
                    "batch": batch_id,
                    "created_at": now,
                    "linked_at": None,
                }
                for number in ordered[start : start + INSERT_CHUNK]
            ],
        )
    await session.flush()
    return IssuedBatch(batch_id, prefix, count, now, ordered)


async def list_batches(session: AsyncSession) -> list[BatchSummary]:
    """Every batch, newest first, with how many of its cards are linked: two queries."""
    batches = list(await session.scalars(select(CardBatch).order_by(CardBatch.created_at.desc())))
    linked: dict[str | None, int] = {}
    if batches:
        rows = await session.execute(
            select(Card.batch, func.count())
            .where(
                Card.batch.in_([b.public_id for b in batches]),
                Card.status != CardStatus.UNASSIGNED,
            )
            .group_by(Card.batch)
        )
        linked = {batch: n for batch, n in rows}
    return [
        BatchSummary(
            b.public_id, b.prefix, b.count, linked.get(b.public_id, 0), b.operator, b.created_at
        )
        for b in batches
    ]


async def _refuse(session: AsyncSession, number: str) -> CardRejected:
    """Why ``number`` cannot be linked."""
    card = None
    if len(number) == CARD_LENGTH and is_valid_card_number(number):
        card = await session.scalar(select(Card).where(Card.number == number))
    if card is None:
        return CardRejected(ErrorCode.CARD_NOT_FOUND, field="number", keep_changes=True)
    if card.status == CardStatus.CLOSED:
        return CardRejected(ErrorCode.CARD_CLOSED, field="number", keep_changes=True)
    return CardRejected(ErrorCode.CARD_ALREADY_LINKED, field="number", keep_changes=True)


async def link_card(
    session: AsyncSession, member_id: int, number: str, now: datetime, *, limit_key: str
) -> Card:
    """Link the unassigned plastic card ``number`` to the member (guarded UPDATE: two
    members racing for one card, exactly one wins). A failure (unknown, closed, already
    linked) counts against ``limit_key``: 10 an hour, then ``RATE_LIMITED``."""
    await counters.check(
        session,
        scope=LINK_FAILURE_SCOPE,
        key=limit_key,
        limit=LINK_FAILURES,
        window_seconds=LINK_FAILURE_WINDOW_SECONDS,
        now=now,
        field="number",
    )
    number = normalise_number(number)
    table = cast(Table, Card.__table__)
    linked_id = None
    if len(number) == CARD_LENGTH and number.isdigit():
        linked_id = await session.scalar(
            update(table)
            .where(
                table.c.number == number,
                table.c.kind == CardKind.PLASTIC.value,
                table.c.status == CardStatus.UNASSIGNED.value,
                table.c.member_id.is_(None),
            )
            .values(member_id=member_id, status=CardStatus.ACTIVE.value, linked_at=now)
            .returning(table.c.id)
        )
    if linked_id is None:
        refusal = await _refuse(session, number)
        await counters.hit(
            session,
            scope=LINK_FAILURE_SCOPE,
            key=limit_key,
            limit=LINK_FAILURES,
            window_seconds=LINK_FAILURE_WINDOW_SECONDS,
            now=now,
        )
        raise refusal
    card = await session.get(Card, linked_id, populate_existing=True)
    assert card is not None
    return card


async def is_unassigned_plastic(session: AsyncSession, number: str) -> bool:
    """Whether ``number`` is a plastic card waiting to be linked (the till link flow)."""
    number = normalise_number(number)
    stmt = select(Card.id).where(
        Card.number == number,
        Card.kind == CardKind.PLASTIC,
        Card.status == CardStatus.UNASSIGNED,
    )
    return (await session.scalar(stmt)) is not None


# --- linking at the till (partner door: requestCardLinkCode, linkPlasticCard) -------------

# A till trying card numbers that are not waiting to be linked is stopped.
TILL_CARD_MISSES = Limit("till_card_link_miss", attempts=20, window_seconds=60 * 60, field="number")


async def ensure_linkable(
    session: AsyncSession, caller: StoreCaller, number: str, now: datetime
) -> str:
    """The normalised number of an unassigned plastic card, or :class:`CardRejected`
    (counted against the till's key: 20 misses an hour)."""
    await limits.ensure_left(session, TILL_CARD_MISSES, caller, now)
    number = normalise_number(number)
    if not await is_unassigned_plastic(session, number):
        refusal = await _refuse(session, number)
        await limits.count_failure(session, TILL_CARD_MISSES, caller, now)
        raise refusal
    return number


async def member_at_till(
    session: AsyncSession, caller: StoreCaller, e164: str, now: datetime
) -> Member:
    """The active member with this (normalised) phone, for linking a card at the till; an
    unknown number is ``MEMBER_NOT_FOUND`` and counts against the key's phone probes, as
    on receipts."""
    await limits.ensure_left(session, limits.PHONE_PROBES, caller, now)
    stmt = select(Member).where(Member.phone_e164 == e164, Member.status == MemberStatus.ACTIVE)
    member = await session.scalar(stmt)
    if member is None:
        await limits.count_failure(session, limits.PHONE_PROBES, caller, now)
        raise MemberNotIdentified(ErrorCode.MEMBER_NOT_FOUND, field="phone", keep_changes=True)
    return member
