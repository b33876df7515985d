"""The core's side of the USSD door: dialogue state, and the member's reads and actions as
a phone number sees them.

A gateway sends every step of a dialogue as a new request carrying all inputs so far
(``1*2*1``), may resend a request, and may send the next one to another replica. So:

- the menu position is derived from the inputs by the door; what a later answer depends
  on (the reward levels a screen offered, where the next page starts) is remembered here,
  first write wins (:func:`remember`);
- every reply is kept for the dialogue's lifetime (:func:`keep_reply`): a resend of the
  same inputs gets the same screen and changes nothing, also when the resends race (the
  reply's primary key decides; the claim itself is keyed by a request id derived from the
  dialogue and the step, so racing first requests still make one claim);
- registrations and claims are limited per phone number and day.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import insert_ignoring_conflicts
from app.environment import Environment
from app.errors import Conflict, RateLimited
from app.ledger import expiry
from app.ledger import service as ledger
from app.ledger.models import PointsAccount
from app.limits import counters
from app.members import service as members
from app.members.models import Member, MemberStatus, RegistrationChannel
from app.partners import service as partners
from app.programme.service import get_programme
from app.receipts import service as receipts
from app.rewards import service as rewards
from app.rewards.models import RewardClaim, RewardLevel
from app.ussd.models import UssdReply, UssdSession, UssdSessionValue

DAY = 24 * 3600


# --- dialogue state --------------------------------------------------------------------


async def open_session(
    session: AsyncSession,
    *,
    gateway_key: str,
    session_id: str,
    phone_e164: str,
    now: datetime,
    lifetime_seconds: int,
) -> UssdSession:
    """The dialogue ``session_id`` of this gateway, begun now if new; its expiry moves on.

    A dialogue id arriving with another phone number than it began with is refused
    (:class:`Conflict`): the number is the member's only identity here.
    """
    table = cast(Table, UssdSession.__table__)
    expires_at = now + timedelta(seconds=lifetime_seconds)
    is_member = await member_by_phone(session, phone_e164) is not None
    inserted = await session.execute(
        insert_ignoring_conflicts(
            session,
            table,
            {
                "gateway_key": gateway_key,
                "session_id": session_id,
                "phone_e164": phone_e164,
                "started_as_member": is_member,
                "created_at": now,
                "expires_at": expires_at,
            },
            ("gateway_key", "session_id"),
        ).returning(table.c.id)
    )
    if inserted.scalar_one_or_none() is not None:
        # A new dialogue is a good moment to forget finished ones.
        await purge_expired(session, now)
    stmt = select(UssdSession).where(
        UssdSession.gateway_key == gateway_key, UssdSession.session_id == session_id
    )
    row = (await session.execute(stmt)).scalar_one()
    if row.phone_e164 != phone_e164:
        raise Conflict(field="sessionId")
    if row.expires_at < expires_at:
        await session.execute(
            update(table)
            .where(table.c.id == row.id, table.c.expires_at < expires_at)
            .values(expires_at=expires_at)
        )
    return row


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def reply_for(session: AsyncSession, session_pk: int, text: str) -> str | None:
    """The reply already given to ``text`` in this dialogue, if any."""
    stmt = select(UssdReply.reply).where(
        UssdReply.session_pk == session_pk, UssdReply.text_hash == _text_hash(text)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def keep_reply(
    session: AsyncSession, session_pk: int, text: str, reply: str, now: datetime
) -> str:
    """Keep ``reply`` for ``text``; the reply kept first if a racing resend was faster."""
    table = cast(Table, UssdReply.__table__)
    inserted = await session.execute(
        insert_ignoring_conflicts(
            session,
            table,
            {
                "session_pk": session_pk,
                "text_hash": _text_hash(text),
                "reply": reply,
                "created_at": now,
            },
            ("session_pk", "text_hash"),
        ).returning(table.c.session_pk)
    )
    if inserted.scalar_one_or_none() is not None:
        return reply
    kept = await reply_for(session, session_pk, text)
    return reply if kept is None else kept


async def remember(session: AsyncSession, session_pk: int, key: str, value: Any) -> Any:
    """Remember ``value`` under ``key`` for the dialogue; the first value if one was kept."""
    table = cast(Table, UssdSessionValue.__table__)
    await session.execute(
        insert_ignoring_conflicts(
            session,
            table,
            {"session_pk": session_pk, "key": key, "value": value},
            ("session_pk", "key"),
        )
    )
    return await recall(session, session_pk, key)


async def recall(session: AsyncSession, session_pk: int, key: str) -> Any:
    """What the dialogue remembered under ``key`` (None if nothing)."""
    stmt = select(UssdSessionValue.value).where(
        UssdSessionValue.session_pk == session_pk, UssdSessionValue.key == key
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    """Forget dialogues that ended; how many."""
    ended = select(UssdSession.id).where(UssdSession.expires_at < now).scalar_subquery()
    await session.execute(delete(UssdReply).where(UssdReply.session_pk.in_(ended)))
    await session.execute(delete(UssdSessionValue).where(UssdSessionValue.session_pk.in_(ended)))
    result = await session.execute(delete(UssdSession).where(UssdSession.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)


# --- the member behind a phone number --------------------------------------------------


@dataclass(frozen=True)
class UssdMember:
    id: int
    public_id: str
    language: str
    first_name: str | None


async def member_by_phone(session: AsyncSession, phone_e164: str) -> UssdMember | None:
    """The active member with this number, if any."""
    stmt = select(Member).where(
        Member.phone_e164 == phone_e164, Member.status == MemberStatus.ACTIVE
    )
    member = (await session.execute(stmt)).scalar_one_or_none()
    if member is None:
        return None
    return UssdMember(member.id, member.public_id, member.language, member.first_name)


@dataclass(frozen=True)
class Registered:
    member_id: int
    card_number: str | None
    available: int
    is_new: bool


async def register_member(
    session: AsyncSession,
    env: Environment,
    *,
    phone_e164: str,
    language: str,
    now: datetime,
) -> Registered:
    """Register the number (channel USSD; the welcome bonus once per number, ever), within
    the per-number limit on registrations."""
    await counters.hit(
        session,
        scope="ussd_registration_phone",
        key=env.keys.hash_phone(phone_e164),
        limit=env.settings.ussd_registrations_per_phone_per_day,
        window_seconds=DAY,
        now=now,
    )
    member, is_new = await members.register(
        session,
        env,
        phone_e164=phone_e164,
        channel=RegistrationChannel.USSD,
        language=language,
        now=now,
    )
    card = (await members.shown_cards(session, [member.id])).get(member.id)
    balance = await ledger.get_balance(session, member.id)
    return Registered(
        member_id=member.id,
        card_number=card.number if card is not None else None,
        available=balance.available,
        is_new=is_new,
    )


async def set_language(
    session: AsyncSession, *, member_id: int, language: str, now: datetime
) -> None:
    await members.update_profile(
        session, member_id=member_id, changes={"language": language}, now=now
    )


# --- balance, levels, vouchers, receipts ---------------------------------------------


@dataclass(frozen=True)
class NextLevel:
    level: int
    points: int
    points_needed: int


@dataclass(frozen=True)
class BalanceSummary:
    available: int
    expiring_points: int
    expiring_date: Any  # datetime.date | None, in the programme's zone
    next_level: NextLevel | None  # the cheapest level not yet within reach
    claimable: tuple[int, ...]  # levels within reach now


async def balance_summary(session: AsyncSession, member_id: int, now: datetime) -> BalanceSummary:
    balance = await ledger.get_balance(session, member_id)
    programme = await get_programme(session)
    soon = (await expiry.expiring_soon(session, [member_id], now, programme.timezone))[member_id]
    levels = await rewards.list_levels(session)
    claimable = tuple(level.level for level in levels if level.points <= balance.available)
    next_level = None
    for level in levels:
        progress = rewards.progress_towards(level, balance.available)
        if progress.points_needed > 0:
            next_level = NextLevel(level.level, level.points, progress.points_needed)
            break
    return BalanceSummary(balance.available, soon.points, soon.date, next_level, claimable)


async def programme_timezone(session: AsyncSession) -> str:
    return (await get_programme(session)).timezone


async def reward_levels(session: AsyncSession) -> list[RewardLevel]:
    return await rewards.list_levels(session)


async def reward_level(session: AsyncSession, level: int) -> RewardLevel | None:
    row = await session.get(RewardLevel, level)
    return row if row is not None and row.active else None


@dataclass(frozen=True)
class ReceiptLine:
    id: int
    issued_at: datetime
    partner_name: str
    points: int  # earned, net of points taken back by returns


async def receipt_page(
    session: AsyncSession, member_id: int, *, after: tuple[datetime, int] | None, limit: int
) -> list[ReceiptLine]:
    """The member's receipts, newest first (keyset by issued time and id)."""
    rows = await receipts.list_member_receipts(
        session,
        member_id,
        partner_id=None,
        issued_from=None,
        issued_to=None,
        after=after,
        limit=limit,
    )
    names = await partners.partners_by_id(session, sorted({r.partner_id for r in rows}))
    return [
        ReceiptLine(
            id=r.id,
            issued_at=r.issued_at,
            partner_name=names[r.partner_id].name if r.partner_id in names else "",
            points=r.points_earned - r.points_reversed,
        )
        for r in rows
    ]


# --- claims ----------------------------------------------------------------------------


async def claim_level(
    session: AsyncSession,
    *,
    member_id: int,
    level: int,
    request_id: str,
    now: datetime,
    claims_per_day: int,
) -> rewards.Claim:
    """Claim ``level`` (``rewards.claim_reward``, idempotent by ``request_id``), at most
    ``claims_per_day`` claims per member (that is, per phone number) in 24 hours.

    The limit counts claims made, not requests: a repeat of a claim already made (a gateway
    resend) is answered with it and never refused, also when repeats race.
    """
    repeat = await session.execute(
        select(RewardClaim.id).where(
            RewardClaim.member_id == member_id, RewardClaim.request_id == request_id
        )
    )
    if repeat.scalar_one_or_none() is None:
        # Claims of one member are serialised (the points account's row lock, which the
        # claim takes anyway), so racing dialogues cannot all pass the count below.
        await session.execute(
            select(PointsAccount.member_id)
            .where(PointsAccount.member_id == member_id)
            .with_for_update()
        )
        since = now - timedelta(seconds=DAY)
        made = (
            await session.execute(
                select(func.count())
                .select_from(RewardClaim)
                .where(RewardClaim.member_id == member_id, RewardClaim.created_at > since)
            )
        ).scalar_one()
        if made >= claims_per_day:
            first = (
                await session.execute(
                    select(func.min(RewardClaim.created_at)).where(
                        RewardClaim.member_id == member_id, RewardClaim.created_at > since
                    )
                )
            ).scalar_one()
            retry_after = DAY
            if isinstance(first, datetime):
                first_at = first if first.tzinfo else first.replace(tzinfo=now.tzinfo)
                retry_after = max(1, int((first_at + timedelta(seconds=DAY) - now).total_seconds()))
            raise RateLimited(retry_after=retry_after, field="level")
    return await rewards.claim_reward(
        session, member_id=member_id, level=level, now=now, request_id=request_id
    )
