"""Member use cases: sign-up and sign-in by SMS code, profile, consents, privacy.

Registration happens on the first successful code check for a number: the member, the
points account and a digital card are created and the welcome bonus is credited once
per phone number, ever (``welcome_bonus_grants`` has the phone hash as primary key, so
concurrent first sign-ins and re-registration after deletion cannot credit it twice).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import i18n
from app.db import insert_ignoring_conflicts, on_commit
from app.errors import ErrorCode, InvalidInput, NotFound
from app.ledger import service as ledger
from app.ledger.models import EntryKind, PointsEntry
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
from app.programme.service import get_programme
from app.receipts import service as receipts
from app.rewards import codes
from app.rewards import service as rewards
from app.runtime import Runtime
from app.text import require_clean_text
from app.wallet import service as wallet
from auth import otp, rate_limit
from auth.sessions import IssuedSession, revoke_sessions, start_session

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
HOUR = 3600


@dataclass(frozen=True)
class CodeSent:
    phone: str
    expires_at: datetime
    resend_after_seconds: int


@dataclass(frozen=True)
class SignedIn:
    member: Member
    session: IssuedSession
    is_new_member: bool


def parse_phone(runtime: Runtime, raw: str) -> str:
    settings = runtime.settings
    return normalise_phone(
        raw, default_region=settings.default_region, allowed_regions=settings.allowed_regions
    )


async def request_code(
    session: AsyncSession,
    runtime: Runtime,
    *,
    phone: str,
    client_address: str,
    language: str,
    now: datetime,
) -> CodeSent:
    """Send a sign-in code to ``phone`` (after commit), within the rate limits."""
    e164 = parse_phone(runtime, phone)
    await rate_limit.hit(
        session,
        scope="otp_send_ip",
        key=client_address,
        limit=runtime.settings.otp_sends_per_ip_per_hour,
        window_seconds=HOUR,
        now=now,
    )
    phone_hash = runtime.keys.hash_phone(e164)
    issued = await otp.issue_code(session, runtime.keys, runtime.otp_policy, phone_hash, now)
    existing = await _active_member_by_phone(session, e164)
    text = i18n.translate(
        "sms.otp",
        existing.language if existing else language,
        code=issued.code,
        minutes=runtime.otp_policy.ttl_seconds // 60,
    )

    async def deliver() -> None:
        await runtime.sms.send(e164, text)

    on_commit(session, deliver)
    return CodeSent(e164, issued.expires_at, issued.resend_after_seconds)


async def sign_in_with_code(
    session: AsyncSession,
    runtime: Runtime,
    *,
    phone: str,
    code: str,
    channel: RegistrationChannel,
    client_address: str,
    language: str,
    now: datetime,
) -> SignedIn:
    """Check the code; register the member on first success; start a session."""
    e164 = parse_phone(runtime, phone)
    if not re.fullmatch(r"\s*\d{6}\s*", code or ""):
        raise InvalidInput(ErrorCode.CODE_INVALID, field="code", attempts_left=0)
    await rate_limit.hit(
        session,
        scope="otp_verify_ip",
        key=client_address,
        limit=runtime.settings.otp_verifies_per_ip_per_hour,
        window_seconds=HOUR,
        now=now,
    )
    phone_hash = runtime.keys.hash_phone(e164)
    await otp.check_code(session, runtime.keys, runtime.otp_policy, phone_hash, code, now)
    member, is_new = await register(
        session, runtime, phone_e164=e164, channel=channel, language=language, now=now
    )
    issued = await start_session(
        session,
        runtime.keys,
        runtime.settings,
        member_id=member.id,
        member_public_id=member.public_id,
        channel=channel.value,
        now=now,
    )
    return SignedIn(member=member, session=issued, is_new_member=is_new)


async def _active_member_by_phone(session: AsyncSession, e164: str) -> Member | None:
    stmt = select(Member).where(Member.phone_e164 == e164)
    return (await session.execute(stmt)).scalar_one_or_none()


async def register(
    session: AsyncSession,
    runtime: Runtime,
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
            expires_at=now + relativedelta(months=programme.points_expiry_months),
            reference_type="member",
            reference_id=member.public_id,
            idempotency_key=f"welcome:{phone_hash}",
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
    if {"first_name", "last_name", "language"} & changes.keys():
        await wallet.member_changed(session, member_id=member_id, now=now)
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


async def export_data(session: AsyncSession, *, member_id: int, now: datetime) -> dict[str, Any]:
    """Everything the programme holds about the member, as JSON-ready data."""
    member = await get_member(session, member_id)
    cards = (await session.execute(select(Card).where(Card.member_id == member_id))).scalars()
    entries = (
        await session.execute(
            select(PointsEntry).where(PointsEntry.member_id == member_id).order_by(PointsEntry.id)
        )
    ).scalars()
    balance = await ledger.get_balance(session, member_id)
    return {
        "exportedAt": now.isoformat(),
        "member": {
            "id": member.public_id,
            "phone": member.phone_e164,
            "firstName": member.first_name,
            "lastName": member.last_name,
            "birthDate": member.birth_date.isoformat() if member.birth_date else None,
            "gender": member.gender.value if member.gender else None,
            "city": member.city,
            "email": member.email,
            "language": member.language,
            "registrationChannel": member.registration_channel.value,
            "memberSince": member.created_at.isoformat(),
        },
        "cards": [
            {"number": c.number, "kind": c.kind.value, "status": c.status.value} for c in cards
        ],
        "receipts": [
            {
                "partnerId": r.partner_id,
                "receiptId": r.external_id,
                "issuedAt": r.issued_at.isoformat(),
                "currency": r.currency,
                "total": r.total,
                "pointsEarned": r.points_earned,
                "pointsReversed": r.points_reversed,
                "refundedAmount": r.refunded_amount,
                "lines": [
                    {
                        "lineNumber": ln.line_no,
                        "sku": ln.sku,
                        "name": ln.name,
                        "brand": ln.brand,
                        "category": ln.category,
                        "quantityMilli": ln.quantity_milli,
                        "unitPrice": ln.unit_price,
                        "amount": ln.amount,
                        "refundedAmount": ln.refunded_amount,
                        "points": ln.points,
                    }
                    for ln in lines
                ],
            }
            for r, lines in await receipts.receipts_for_export(session, member_id)
        ],
        "vouchers": [
            {
                "code": codes.display(v.code),
                "value": v.value_amount,
                "currency": v.currency,
                "status": rewards.member_status(v, now),
                "issuedAt": v.issued_at.isoformat(),
                "expiresAt": v.expires_at.isoformat(),
                "redeemedAt": v.redeemed_at.isoformat() if v.redeemed_at else None,
            }
            for v in await rewards.list_member_vouchers(session, member_id, status=None, now=now)
        ],
        "marketingConsents": [
            {
                "channel": c.channel.value,
                "granted": c.granted,
                "changedAt": c.changed_at.isoformat(),
            }
            for c in await list_consents(session, member_id)
        ],
        "balance": {
            "available": balance.available,
            "pending": balance.pending,
            "lifetime": balance.lifetime,
        },
        "pointsActivity": [
            {
                "kind": e.kind.value,
                "points": e.delta,
                "balanceAfter": e.balance_after,
                "reference": f"{e.reference_type}:{e.reference_id}" if e.reference_type else None,
                "at": e.created_at.isoformat(),
                "expiresAt": e.expires_at.isoformat() if e.expires_at else None,
            }
            for e in entries
        ],
    }


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
    await revoke_sessions(session, member_id=member_id, now=now, reason="account_deleted")
    await wallet.forget_member(session, member_id)
    await session.flush()
