"""Kiosk use cases: kiosks for stores, visits of members, check-in, and the prize actions a
member takes at a kiosk (through :mod:`app.prizes.service`).

A visit is not a member session: it is a random token (only its keyed hash is stored)
bound to one kiosk, ending on ``endVisit`` or after ``kiosk_visit_idle_seconds`` without
a request. A token presented by another kiosk is refused like an unknown one.

The check-in bonus is once per member, store and programme day: the unique key of
``kiosk_check_ins`` decides, and the ledger posting carries an idempotency key of the same
three, so concurrent check-ins credit one bonus.
"""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.callers import Channel, StoreCaller
from app.clock import as_utc
from app.db import insert_ignoring_conflicts
from app.environment import Environment
from app.errors import (
    ErrorCode,
    InvalidInput,
    KioskRuleRejected,
    MemberNotIdentified,
    NotFound,
    StaffPinRejected,
    VisitEnded,
)
from app.kiosks.models import CheckIn, Kiosk, KioskStoreRules, KioskVisit
from app.ledger import service as ledger
from app.ledger.models import EntryKind
from app.limits import service as limits
from app.members import service as members
from app.members.models import Member, MemberStatus, RegistrationChannel
from app.partners import service as partners
from app.partners.models import Store
from app.prizes import service as prizes
from app.programme.service import get_programme, points_expire_at
from app.rewards import service as rewards
from app.support import blocks
from app.wallet.scan import resolve_member

DEFAULT_CHECK_IN_POINTS = 10
DEFAULT_PLAYS_PER_DAY = 1
# Scanned cards that lead to no member, per kiosk: a tablet is not a card-number oracle.
CARD_PROBES = limits.Limit("kiosk_card_miss", attempts=30, window_seconds=60 * 60, field="scan")
# Wrong staff PINs per kiosk before it stops listening for a while.
STAFF_PIN_GUESSES = limits.Limit(
    "kiosk_staff_pin_miss", attempts=5, window_seconds=15 * 60, field="staffPin"
)
STAFF_PIN_RE = re.compile(r"\d{4,8}")


@dataclass(frozen=True)
class KioskCaller:
    """A kiosk acting for its store: the core's caller plus which kiosk it is."""

    kiosk_id: int
    kiosk_public_id: str
    store: StoreCaller


# --- kiosks -------------------------------------------------------------------------------


async def create_kiosk(
    session: AsyncSession, *, store_code: str, label: str | None, now: datetime
) -> tuple[Kiosk, Store]:
    """A new kiosk for the store; the credentials to enrol it are auth's."""
    if label is not None and len(label) > 80:
        raise InvalidInput(field="label")
    store = await partners.store_by_code(session, store_code)
    if store is None:
        raise NotFound(field="store")
    kiosk = Kiosk(public_id=uuid.uuid4().hex[:12], store_id=store.id, label=label, created_at=now)
    session.add(kiosk)
    await session.flush()
    return kiosk, store


async def list_kiosks(session: AsyncSession) -> list[tuple[Kiosk, Store]]:
    rows = (
        await session.execute(
            select(Kiosk, Store).join(Store, Store.id == Kiosk.store_id).order_by(Kiosk.id)
        )
    ).all()
    return [(kiosk, store) for kiosk, store in rows]


async def revoke_kiosk(session: AsyncSession, public_id: str, now: datetime) -> bool:
    """Revoke a kiosk: its device token stops working on the next request, its open
    visits end. False if it was revoked already."""
    table = cast(Table, Kiosk.__table__)
    changed = (
        await session.execute(
            update(table)
            .where(table.c.public_id == public_id, table.c.revoked_at.is_(None))
            .values(revoked_at=now)
            .returning(table.c.id)
        )
    ).scalar_one_or_none()
    if changed is None:
        exists = await session.execute(select(Kiosk.id).where(Kiosk.public_id == public_id))
        if exists.scalar_one_or_none() is None:
            raise NotFound(field="kiosk")
        return False
    visits = cast(Table, KioskVisit.__table__)
    await session.execute(
        update(visits)
        .where(visits.c.kiosk_id == changed, visits.c.ended_at.is_(None))
        .values(ended_at=now)
    )
    return True


async def kiosk_for_enrolment(session: AsyncSession, kiosk_id: int) -> Kiosk | None:
    """The kiosk an enrolment code is for, while it is not revoked."""
    kiosk = await session.get(Kiosk, kiosk_id)
    if kiosk is None or kiosk.revoked_at is not None:
        return None
    return kiosk


async def mark_enrolled(
    session: AsyncSession, kiosk_id: int, device_name: str, now: datetime
) -> Kiosk:
    kiosk = await session.get(Kiosk, kiosk_id)
    assert kiosk is not None
    kiosk.device_name = device_name
    kiosk.enrolled_at = now
    await session.flush()
    return kiosk


async def kiosk_caller(session: AsyncSession, kiosk_id: int) -> KioskCaller | None:
    """The caller of an enrolled kiosk; None once it is revoked or its store inactive."""
    kiosk = await session.get(Kiosk, kiosk_id)
    if kiosk is None or kiosk.revoked_at is not None or kiosk.enrolled_at is None:
        return None
    store = await partners.store_caller(
        session, kiosk.store_id, channel=Channel.KIOSK, limit_key=f"kiosk:{kiosk.id}"
    )
    if store is None:
        return None
    return KioskCaller(kiosk.id, kiosk.public_id, store)


@dataclass(frozen=True)
class KioskDetails:
    kiosk_id: str
    label: str | None
    store_name: str
    store_code: str


async def kiosk_details(session: AsyncSession, kiosk_id: int) -> KioskDetails:
    """What the tablet shows about itself: its id and label, its store."""
    kiosk = await session.get(Kiosk, kiosk_id)
    assert kiosk is not None
    store = await session.get(Store, kiosk.store_id)
    assert store is not None
    return KioskDetails(kiosk.public_id, kiosk.label, store.name, store.code)


# --- store rules (programme data) -----------------------------------------------------------


async def store_rules(session: AsyncSession, store_id: int) -> KioskStoreRules:
    rules = await session.get(KioskStoreRules, store_id)
    if rules is None:
        return KioskStoreRules(
            store_id=store_id,
            check_in_points=DEFAULT_CHECK_IN_POINTS,
            plays_per_day=DEFAULT_PLAYS_PER_DAY,
            staff_pin_hash=None,
        )
    return rules


async def store_rules_row(session: AsyncSession, store_id: int) -> KioskStoreRules | None:
    """The store's own rules row (None: the defaults apply)."""
    return await session.get(KioskStoreRules, store_id)


async def _rules_row(session: AsyncSession, store_code: str, now: datetime) -> KioskStoreRules:
    store = await partners.store_by_code(session, store_code)
    if store is None:
        raise NotFound(field="store")
    await session.execute(
        insert_ignoring_conflicts(
            session,
            KioskStoreRules.__table__,
            {
                "store_id": store.id,
                "check_in_points": DEFAULT_CHECK_IN_POINTS,
                "plays_per_day": DEFAULT_PLAYS_PER_DAY,
                "updated_at": now,
            },
            ("store_id",),
        )
    )
    row = (
        await session.execute(
            select(KioskStoreRules)
            .where(KioskStoreRules.store_id == store.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    return row


async def set_store_rules(
    session: AsyncSession,
    *,
    store_code: str,
    check_in_points: int | None,
    plays_per_day: int | None,
    now: datetime,
) -> KioskStoreRules:
    """Set the store's check-in bonus and plays per member per day."""
    if check_in_points is not None and check_in_points < 0:
        raise InvalidInput(field="checkInPoints")
    if plays_per_day is not None and not 0 <= plays_per_day <= 100:
        raise InvalidInput(field="playsPerDay")
    rules = await _rules_row(session, store_code, now)
    if check_in_points is not None:
        rules.check_in_points = check_in_points
    if plays_per_day is not None:
        rules.plays_per_day = plays_per_day
    rules.updated_at = now
    await session.flush()
    return rules


def _pin_hash(env: Environment, store_id: int, pin: str) -> str:
    return env.keys.hash_code(f"kiosk-staff-pin:{store_id}", pin)


async def set_staff_pin(
    session: AsyncSession, env: Environment, *, store_code: str, pin: str, now: datetime
) -> None:
    """Set the store's staff PIN (4 to 8 digits), kept as a keyed hash."""
    if not STAFF_PIN_RE.fullmatch(pin):
        raise InvalidInput(field="pin")
    rules = await _rules_row(session, store_code, now)
    rules.staff_pin_hash = _pin_hash(env, rules.store_id, pin)
    rules.updated_at = now
    await session.flush()


async def check_staff_pin(
    session: AsyncSession, env: Environment, caller: KioskCaller, pin: str, now: datetime
) -> None:
    """Accept the store's staff PIN or raise (wrong tries are limited per kiosk)."""
    await limits.ensure_left(session, STAFF_PIN_GUESSES, caller.store, now)
    rules = await store_rules(session, caller.store.store_id)
    if rules.staff_pin_hash is None:
        raise StaffPinRejected(ErrorCode.STAFF_PIN_NOT_SET, field="staffPin")
    candidate = _pin_hash(env, caller.store.store_id, (pin or "").strip())
    if not hmac.compare_digest(candidate, rules.staff_pin_hash):
        await limits.count_failure(session, STAFF_PIN_GUESSES, caller.store, now)
        raise StaffPinRejected(ErrorCode.STAFF_PIN_INVALID, field="staffPin", keep_changes=True)


# --- visits ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitSummary:
    """What a kiosk may show of the member: first name and balance, and its own rules."""

    first_name: str | None
    balance: int
    is_new_member: bool
    checked_in_today: bool
    plays_left: int


@dataclass(frozen=True)
class StartedVisit:
    session_token: str
    expires_in_seconds: int
    summary: VisitSummary


def _visit_hash(env: Environment, token: str) -> str:
    return env.keys.hash_code("kiosk-visit", token)


async def start_visit(
    session: AsyncSession,
    env: Environment,
    caller: KioskCaller,
    *,
    member_id: int,
    identified_by: str,
    is_new_member: bool,
    now: datetime,
) -> StartedVisit:
    """A visit of the member at this kiosk; any earlier open visit on the kiosk ends."""
    visits = cast(Table, KioskVisit.__table__)
    await session.execute(
        update(visits)
        .where(visits.c.kiosk_id == caller.kiosk_id, visits.c.ended_at.is_(None))
        .values(ended_at=now)
    )
    token = "kv_" + secrets.token_urlsafe(24)
    visit = KioskVisit(
        token_hash=_visit_hash(env, token),
        kiosk_id=caller.kiosk_id,
        store_id=caller.store.store_id,
        member_id=member_id,
        identified_by=identified_by,
        is_new_member=is_new_member,
        started_at=now,
        last_seen_at=now,
    )
    session.add(visit)
    await session.flush()
    return StartedVisit(
        token, env.settings.kiosk_visit_idle_seconds, await summary(session, visit, now)
    )


async def identify_by_card(
    session: AsyncSession, env: Environment, caller: KioskCaller, scan: str, now: datetime
) -> StartedVisit:
    """Start a visit for the member whose card (number or rotating token) was scanned."""
    await limits.ensure_left(session, CARD_PROBES, caller.store, now)
    if not scan or len(scan) > 512:
        raise InvalidInput(field="scan")
    try:
        member = await resolve_member(session, env.keys, scan.strip(), now, field="scan")
    except MemberNotIdentified as exc:
        # The miss is counted (and kept) before the kiosk hears about it.
        await limits.count_failure(session, CARD_PROBES, caller.store, now)
        raise MemberNotIdentified(exc.code, field="scan", keep_changes=True) from exc
    return await start_visit(
        session,
        env,
        caller,
        member_id=member.id,
        identified_by="card",
        is_new_member=False,
        now=now,
    )


async def start_visit_by_phone(
    session: AsyncSession,
    env: Environment,
    caller: KioskCaller,
    *,
    phone_e164: str,
    language: str,
    now: datetime,
) -> StartedVisit:
    """Start a visit for the (verified) number, registering it (channel KIOSK) if new."""
    member, is_new = await members.register(
        session,
        env,
        phone_e164=phone_e164,
        channel=RegistrationChannel.KIOSK,
        language=language,
        now=now,
    )
    return await start_visit(
        session,
        env,
        caller,
        member_id=member.id,
        identified_by="phone",
        is_new_member=is_new,
        now=now,
    )


async def open_visit(
    session: AsyncSession, env: Environment, caller: KioskCaller, token: str, now: datetime
) -> KioskVisit:
    """The live visit behind ``token`` on this kiosk, its idle clock restarted."""
    if not token or len(token) > 100:
        raise VisitEnded(field="session")
    visit = (
        await session.execute(
            select(KioskVisit).where(KioskVisit.token_hash == _visit_hash(env, token))
        )
    ).scalar_one_or_none()
    idle = timedelta(seconds=env.settings.kiosk_visit_idle_seconds)
    if (
        visit is None
        or visit.kiosk_id != caller.kiosk_id
        or visit.ended_at is not None
        or now - as_utc(visit.last_seen_at) > idle
    ):
        raise VisitEnded(field="session")
    member = await session.get(Member, visit.member_id)
    if member is None or member.status != MemberStatus.ACTIVE:
        raise VisitEnded(field="session")
    visit.last_seen_at = now
    await session.flush()
    return visit


async def end_visit(
    session: AsyncSession, env: Environment, caller: KioskCaller, token: str, now: datetime
) -> None:
    """End the visit (idempotent: an ended or unknown visit is already ended)."""
    visits = cast(Table, KioskVisit.__table__)
    await session.execute(
        update(visits)
        .where(
            visits.c.token_hash == _visit_hash(env, token or ""),
            visits.c.kiosk_id == caller.kiosk_id,
            visits.c.ended_at.is_(None),
        )
        .values(ended_at=now)
    )


async def summary(session: AsyncSession, visit: KioskVisit, now: datetime) -> VisitSummary:
    member = await session.get(Member, visit.member_id)
    assert member is not None
    day = await prizes.programme_day(session, now)
    checked_in = (
        await session.execute(
            select(CheckIn.id).where(
                CheckIn.member_id == visit.member_id,
                CheckIn.store_id == visit.store_id,
                CheckIn.day == day,
            )
        )
    ).scalar_one_or_none() is not None
    rules = await store_rules(session, visit.store_id)
    used = await prizes.plays_used(session, visit.member_id, visit.store_id, day)
    balance = (await ledger.get_balance(session, visit.member_id)).available
    return VisitSummary(
        first_name=member.first_name,
        balance=balance,
        is_new_member=visit.is_new_member,
        checked_in_today=checked_in,
        plays_left=max(0, rules.plays_per_day - used),
    )


# --- what a member does at the kiosk ---------------------------------------------------------


@dataclass(frozen=True)
class CheckedIn:
    points: int
    balance: int


async def check_in(
    session: AsyncSession, caller: KioskCaller, visit: KioskVisit, now: datetime
) -> CheckedIn:
    """The store's check-in bonus, once per member per store per programme day."""
    await blocks.ensure_not_blocked(session, visit.member_id)
    day = await prizes.programme_day(session, now)
    rules = await store_rules(session, visit.store_id)
    inserted = await session.execute(
        insert_ignoring_conflicts(
            session,
            CheckIn.__table__,
            {
                "member_id": visit.member_id,
                "store_id": visit.store_id,
                "kiosk_id": caller.kiosk_id,
                "day": day,
                "points": rules.check_in_points,
                "created_at": now,
            },
            ("member_id", "store_id", "day"),
        ).returning(CheckIn.__table__.c.id)
    )
    check_in_id = inserted.scalar_one_or_none()
    if check_in_id is None:
        raise KioskRuleRejected(ErrorCode.ALREADY_CHECKED_IN)
    balance = (await ledger.get_balance(session, visit.member_id)).available
    if rules.check_in_points > 0:
        programme = await get_programme(session)
        store = await session.get(Store, visit.store_id)
        assert store is not None
        entry = await ledger.post(
            session,
            member_id=visit.member_id,
            kind=EntryKind.CHECK_IN,
            delta=rules.check_in_points,
            now=now,
            expires_at=points_expire_at(programme, now),
            reference_type="kiosk_check_in",
            reference_id=str(check_in_id),
            description=f"Check-in at {store.name}",
            idempotency_key=f"check_in:{visit.member_id}:{visit.store_id}:{day.isoformat()}",
        )
        balance = entry.balance_after
    return CheckedIn(rules.check_in_points, balance)


async def spin(
    session: AsyncSession, caller: KioskCaller, visit: KioskVisit, now: datetime
) -> prizes.SpinOutcome:
    """Use one of today's plays at this store and draw the wheel on the server."""
    rules = await store_rules(session, visit.store_id)
    return await prizes.spin(
        session,
        member_id=visit.member_id,
        store_id=visit.store_id,
        kiosk_id=caller.kiosk_id,
        plays_per_day=rules.plays_per_day,
        now=now,
    )


@dataclass(frozen=True)
class ExchangeRequested:
    """A pending exchange and what the SMS to the member says (never shown on the kiosk)."""

    reservation: prizes.Reservation
    phone_e164: str
    language: str


async def request_prize_exchange(
    session: AsyncSession, caller: KioskCaller, visit: KioskVisit, prize_id: str, now: datetime
) -> ExchangeRequested:
    reservation = await prizes.reserve_prize(
        session,
        member_id=visit.member_id,
        store_id=visit.store_id,
        prize_public_id=prize_id,
        kiosk_id=caller.kiosk_id,
        visit_id=visit.id,
        now=now,
    )
    member = await session.get(Member, visit.member_id)
    assert member is not None and member.phone_e164 is not None
    return ExchangeRequested(reservation, member.phone_e164, member.language)


async def claim_reward(
    session: AsyncSession,
    visit: KioskVisit,
    level: int,
    request_id: str | None,
    now: datetime,
) -> rewards.Claim:
    return await rewards.claim_reward(
        session, member_id=visit.member_id, level=level, now=now, request_id=request_id
    )
