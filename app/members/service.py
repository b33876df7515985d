"""Member use cases: sign-up and sign-in by SMS code, profile, consents, privacy.

Registration happens on the first successful code check for a number: the member, the
points account and a digital card are created and the welcome bonus is credited once
per phone number, ever (``welcome_bonus_grants`` has the phone hash as primary key, so
concurrent first sign-ins and re-registration after deletion cannot credit it twice).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from dateutil.relativedelta import relativedelta
from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import class_mapper

from app import events, i18n
from app.db import insert_ignoring_conflicts
from app.environment import Environment
from app.errors import InvalidInput, NotFound
from app.ledger import service as ledger
from app.ledger.models import EntryKind, PointsAccount
from app.members.cards import new_card_number
from app.members.models import (
    Card,
    CardKind,
    CardStatus,
    Gender,
    MarketingChannel,
    MarketingConsent,
    Member,
    MemberStatus,
    RegistrationChannel,
    WelcomeBonusGrant,
)
from app.members.phone import normalise_phone
from app.programme.service import get_programme, points_expire_at
from app.rewards import service as rewards
from app.text import require_clean_text

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def parse_phone(runtime: Environment, raw: str) -> str:
    settings = runtime.settings
    return normalise_phone(
        raw, default_region=settings.default_region, allowed_regions=settings.allowed_regions
    )


async def language_of_number(session: AsyncSession, e164: str) -> str | None:
    """The language of the member with this number, if there is one (for the SMS text)."""
    member = await _active_member_by_phone(session, e164)
    return member.language if member is not None else None


async def active_public_id(session: AsyncSession, member_id: int) -> str | None:
    """The member's public id while the account is active, else None."""
    member = await session.get(Member, member_id)
    if member is None or member.status != MemberStatus.ACTIVE:
        return None
    return member.public_id


async def _active_member_by_phone(session: AsyncSession, e164: str) -> Member | None:
    stmt = select(Member).where(Member.phone_e164 == e164)
    return (await session.execute(stmt)).scalar_one_or_none()


async def register(
    session: AsyncSession,
    runtime: Environment,
    *,
    phone_e164: str,
    channel: RegistrationChannel,
    language: str,
    now: datetime,
) -> tuple[Member, bool]:
    """The member with this (verified) number, created with card and bonus if new.

    Safe under concurrency: the unique phone column decides which transaction creates
    the member; the other one finds it.
    """
    existing = await _active_member_by_phone(session, phone_e164)
    if existing is not None:
        return existing, False
    programme = await get_programme(session)
    public_id = uuid.uuid4().hex
    inserted = await session.execute(
        insert_ignoring_conflicts(
            session,
            Member.__table__,
            {
                "public_id": public_id,
                "phone_e164": phone_e164,
                "status": MemberStatus.ACTIVE,
                "language": i18n.normalise_language(language),
                "registration_channel": channel,
                "created_at": now,
                "updated_at": now,
            },
            ("phone_e164",),
        ).returning(Member.__table__.c.id)
    )
    member_id = inserted.scalar_one_or_none()
    member = await _active_member_by_phone(session, phone_e164)
    if member is None:  # pragma: no cover - the row exists after the insert above
        raise NotFound()
    if member_id is None:
        return member, False

    await ledger.open_account(session, member.id, now)
    await issue_digital_card(session, member.id, programme.card_prefix, now)
    phone_hash = runtime.keys.hash_phone(phone_e164)
    granted = await session.execute(
        insert_ignoring_conflicts(
            session,
            WelcomeBonusGrant.__table__,
            {"phone_hash": phone_hash, "member_id": member.id, "granted_at": now},
            ("phone_hash",),
        ).returning(WelcomeBonusGrant.__table__.c.phone_hash)
    )
    if granted.scalar_one_or_none() is not None and programme.welcome_bonus_points > 0:
        await ledger.post(
            session,
            member_id=member.id,
            kind=EntryKind.WELCOME_BONUS,
            delta=programme.welcome_bonus_points,
            now=now,
            expires_at=points_expire_at(programme, now),
            reference_type="member",
            reference_id=member.public_id,
            idempotency_key=f"welcome:{phone_hash}",
        )
    await events.publish(
        session, events.MemberRegistered(at=now, member_id=member.id, channel=channel.value)
    )
    return member, True


async def issue_digital_card(
    session: AsyncSession, member_id: int, prefix: str, now: datetime
) -> Card:
    """A new digital card; a (vanishingly rare) number collision draws again."""
    for _ in range(5):
        number = new_card_number(prefix)
        try:
            async with session.begin_nested():
                card = Card(
                    number=number,
                    member_id=member_id,
                    kind=CardKind.DIGITAL,
                    status=CardStatus.ACTIVE,
                    created_at=now,
                    linked_at=now,
                )
                session.add(card)
                await session.flush()
            return card
        except IntegrityError:
            continue
    raise RuntimeError("could not draw a unique card number")


async def get_member(session: AsyncSession, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None or member.status != MemberStatus.ACTIVE:
        raise NotFound()
    return member


PROFILE_FIELDS = ("first_name", "last_name", "birth_date", "gender", "city", "email", "language")


async def update_profile(
    session: AsyncSession, *, member_id: int, changes: dict[str, Any], now: datetime
) -> Member:
    """Change profile fields; ``None`` clears a field (except language)."""
    member = await get_member(session, member_id)
    for name, value in changes.items():
        if name not in PROFILE_FIELDS:
            raise InvalidInput(field=name)
        setattr(member, name, _clean_profile_value(name, value, now))
    member.updated_at = now
    await session.flush()
    if changes:
        await events.publish(
            session,
            events.MemberProfileChanged(at=now, member_id=member_id, fields=tuple(sorted(changes))),
        )
    return member


def _clean_profile_value(name: str, value: Any, now: datetime) -> Any:
    if value is None:
        if name == "language":
            raise InvalidInput(field="language")
        return None
    if isinstance(value, str):
        require_clean_text(value, _camel(name))
    if name in {"first_name", "last_name", "city"}:
        text = " ".join(str(value).split())
        if not text or len(text) > 80 or any(ch in text for ch in "<>{}\\"):
            raise InvalidInput(field=_camel(name))
        return text
    if name == "email":
        text = str(value).strip().lower()
        if len(text) > 254 or not EMAIL_RE.match(text):
            raise InvalidInput(field="email")
        return text
    if name == "birth_date":
        if not isinstance(value, date) or not (date(1900, 1, 1) <= value <= now.date()):
            raise InvalidInput(field="birthDate")
        if value > now.date() - relativedelta(years=14):
            # Members must be old enough to consent to the programme's terms themselves.
            raise InvalidInput(field="birthDate")
        return value
    if name == "gender":
        return Gender(value)
    if name == "language":
        if value not in i18n.LANGUAGES:
            raise InvalidInput(field="language")
        return value
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def set_marketing_consent(
    session: AsyncSession,
    *,
    member_id: int,
    channel: MarketingChannel,
    granted: bool,
    now: datetime,
) -> MarketingConsent:
    """Record consent given or withdrawn for one channel, with the time of the change."""
    await get_member(session, member_id)
    consent = await session.get(MarketingConsent, (member_id, channel))
    if consent is None:
        consent = MarketingConsent(
            member_id=member_id, channel=channel, granted=granted, changed_at=now
        )
        session.add(consent)
    elif consent.granted != granted:
        consent.granted = granted
        consent.changed_at = now
    await session.flush()
    return consent


async def list_consents(session: AsyncSession, member_id: int) -> list[MarketingConsent]:
    stmt = select(MarketingConsent).where(MarketingConsent.member_id == member_id)
    return list((await session.execute(stmt)).scalars())


async def delete_account(session: AsyncSession, *, member_id: int, now: datetime) -> None:
    """Erase personal data, close cards, end sessions; keep the ledger anonymised.

    Remaining points are forfeited with an ``adjustment`` entry so the liability leaves
    the books with the account (docs/decisions.md). The phone hash stays only in the
    welcome-bonus registry, so the number never gets the bonus twice.
    """
    member = await get_member(session, member_id)
    balance = await ledger.get_balance(session, member_id)
    if balance.available > 0:
        await ledger.post(
            session,
            member_id=member_id,
            kind=EntryKind.ADJUSTMENT,
            delta=-balance.available,
            now=now,
            reference_type="member",
            reference_id=member.public_id,
            description="account deleted: points forfeited",
        )
    # Vouchers are points already spent: forfeited with the points.
    await rewards.forfeit_member_vouchers(session, member_id, now)
    for name in ("phone_e164", "first_name", "last_name", "birth_date", "gender", "city", "email"):
        setattr(member, name, None)
    member.status = MemberStatus.DELETED
    member.deleted_at = now
    member.updated_at = now
    cards = (await session.execute(select(Card).where(Card.member_id == member_id))).scalars()
    for card in cards:
        card.status = CardStatus.CLOSED
    for consent in await list_consents(session, member_id):
        await session.delete(consent)
    await session.flush()
    # Sessions end, wallet devices are forgotten, ... : the subscribers' business.
    await events.publish(session, events.MemberDeleted(at=now, member_id=member_id))


# --- reads for the doors ---------------------------------------------------------------


async def active_member_with_account(
    session: AsyncSession, member_public_id: str
) -> tuple[Member, PointsAccount | None] | None:
    """The active member with this public id and their points account in one query (nearly
    every member screen shows the balance); else None."""
    stmt = (
        select(Member, PointsAccount)
        .outerjoin(PointsAccount, PointsAccount.member_id == Member.id)
        .where(Member.public_id == member_public_id, Member.status == MemberStatus.ACTIVE)
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        return None
    member, account = row
    return member, account


_Model = TypeVar("_Model", Member, PointsAccount)
_MEMBER_COLUMNS = tuple(Member.__table__.columns)
_ACCOUNT_COLUMNS = tuple(
    c.label(f"account_{c.key}") for c in PointsAccount.__table__.columns if c.key != "member_id"
)


def active_member_query() -> Select[Any]:
    """A Core SELECT of the active member with public id ``:member_public_id`` and their
    points account, in one row (:func:`member_from_row`). A door adds its credential's
    check (``.where(...)`` on ``Member.id``), builds it once and runs it on every request:
    one statement, its compiled form and the driver's prepared statement reused."""
    table = Member.__table__
    account = PointsAccount.__table__
    return (
        select(*_MEMBER_COLUMNS, account.c.member_id.label("account_member_id"), *_ACCOUNT_COLUMNS)
        .select_from(table.outerjoin(account, account.c.member_id == table.c.id))
        .where(
            table.c.public_id == bindparam("member_public_id"),
            table.c.status == MemberStatus.ACTIVE,
        )
    )


def member_from_row(row: Row[Any]) -> tuple[Member, PointsAccount | None]:
    """The member and their points account (None without one) of a row of
    :func:`active_member_query`, as detached objects (read them; never add them to a
    session). Built as the ORM's loader builds instances (values straight into the
    instance's dict), without the constructor's per-attribute events."""
    values = row._mapping
    member = _loaded(Member, {c.key: values[c] for c in _MEMBER_COLUMNS})
    if values["account_member_id"] is None:
        return member, None
    account_values = {c.name.removeprefix("account_"): values[c.name] for c in _ACCOUNT_COLUMNS}
    account_values["member_id"] = values["account_member_id"]
    return member, _loaded(PointsAccount, account_values)


def _loaded(cls: type[_Model], values: dict[str, Any]) -> _Model:
    instance: _Model = class_mapper(cls).class_manager.new_instance()  # mappers configured
    instance.__dict__.update(values)
    return instance


async def shown_cards(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, Card]:
    """The card each member is shown in the app, by member id: of the active cards, the one
    linked first (the digital card)."""
    stmt = (
        select(Card)
        .where(Card.member_id.in_(member_ids), Card.status == CardStatus.ACTIVE)
        .order_by(Card.linked_at, Card.id)
    )
    shown: dict[int, Card] = {}
    for card in await session.scalars(stmt):
        assert card.member_id is not None
        shown.setdefault(card.member_id, card)
    return shown


async def consents_of(
    session: AsyncSession, member_ids: Sequence[int]
) -> dict[int, list[MarketingConsent]]:
    """Each member's marketing consents by member id (an empty list for none)."""
    stmt = select(MarketingConsent).where(MarketingConsent.member_id.in_(member_ids))
    grouped: dict[int, list[MarketingConsent]] = {member_id: [] for member_id in member_ids}
    for consent in await session.scalars(stmt):
        grouped.setdefault(consent.member_id, []).append(consent)
    return grouped
