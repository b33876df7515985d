"""Wallet passes as part of the service: issuing a pass record for a card, keeping it
current when points change, and Apple's device registrations.

Rules:
- One pass per card. The serial number is random (not the card number or member id); the
  Apple ``authenticationToken`` is ``HMAC(derive("apple-pass-auth"), serial)``, so nothing
  secret is stored and a token can be checked in constant time.
- ``updated_at`` is the pass's update tag: whole seconds, strictly increasing per pass (a
  second change within the same second moves it one second on), so ``Last-Modified`` /
  ``If-Modified-Since`` (second resolution) and ``passesUpdatedSince`` never miss a change.
- A balance or name change bumps the tag in the same transaction (an in-transaction
  subscriber to the ledger's ``BalanceChanged`` event, see ``app/wallet/delivery.py``);
  the APNs pushes and the Google object update go out after commit through the outbox.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha256

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import insert_ignoring_conflicts
from app.keys import Keys
from app.ledger.models import PointsAccount
from app.members.models import Card, CardStatus, Member, MemberStatus
from app.tiers.service import current_tier_of
from app.wallet.models import WalletDeviceRegistration, WalletPass
from wallet_passes.google import object_id, object_suffix_for

AUTH_PURPOSE = "apple-pass-auth"
DEFAULT_TIER = "Member"


def whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def update_tag(moment: datetime) -> str:
    """The opaque ``lastUpdated`` tag Apple gets back (a string: iOS skips numbers)."""
    return str(int(moment.timestamp()))


def parse_update_tag(tag: str | None) -> int | None:
    if tag is None or not tag.strip().isdigit() or len(tag.strip()) > 12:
        return None
    return int(tag.strip())


def authentication_token(keys: Keys, serial_number: str) -> str:
    """The pass's Apple ``authenticationToken`` (64 hex characters), derived, never stored."""
    return hmac.new(keys.derive(AUTH_PURPOSE), serial_number.encode(), sha256).hexdigest()


def check_authentication(keys: Keys, serial_number: str, header: str | None) -> bool:
    """Whether ``Authorization: ApplePass <token>`` is right for this pass (constant time)."""
    scheme, _, token = (header or "").strip().partition(" ")
    expected = authentication_token(keys, serial_number)
    return scheme == "ApplePass" and hmac.compare_digest(token.strip().encode(), expected.encode())


def google_object_id(issuer_id: str, member_public_id: str) -> str:
    return object_id(issuer_id, object_suffix_for(member_public_id))


async def ensure_pass(session: AsyncSession, *, card: Card, now: datetime) -> WalletPass:
    """The card's pass record, created on first use (safe under concurrent first uses)."""
    existing = await session.scalar(select(WalletPass).where(WalletPass.card_id == card.id))
    if existing is not None:
        return existing
    assert card.member_id is not None
    session.info.get(_PASSLESS, set()).discard(card.member_id)
    moment = whole_seconds(now)
    await session.execute(
        insert_ignoring_conflicts(
            session,
            WalletPass.__table__,
            {
                "card_id": card.id,
                "member_id": card.member_id,
                "serial_number": secrets.token_hex(16),
                "version": 1,
                "created_at": moment,
                "updated_at": moment,
            },
            ("card_id",),
        )
    )
    created = await session.scalar(select(WalletPass).where(WalletPass.card_id == card.id))
    assert created is not None
    return created


async def ensure_passes_for_cards(
    session: AsyncSession, card_numbers: list[str], now: datetime
) -> dict[str, WalletPass]:
    """Pass records for active cards by number (missing ones created)."""
    cards = (
        await session.scalars(
            select(Card).where(Card.number.in_(card_numbers), Card.status == CardStatus.ACTIVE)
        )
    ).all()
    return {card.number: await ensure_pass(session, card=card, now=now) for card in cards}


@dataclass(frozen=True)
class PassSubject:
    """Everything a pass shows, read in one go."""

    wallet_pass: WalletPass
    card_number: str
    member_public_id: str
    member_name: str
    language: str
    balance: int
    tier: str
    colours: tuple[str | None, str | None, str | None] = (None, None, None)  # bg, fg, label


async def _tier_of(session: AsyncSession, member_id: int) -> tuple[str, tuple[str | None, ...]]:
    """The member's tier name and pass colours (``DEFAULT_TIER`` when no tiers exist)."""
    tier = await current_tier_of(session, member_id)
    if tier is None:
        return DEFAULT_TIER, (None, None, None)
    return tier.name, (tier.background_colour, tier.foreground_colour, tier.label_colour)


async def load_subject(session: AsyncSession, serial_number: str) -> PassSubject | None:
    """The pass with this serial and what it shows, or None (unknown serial, closed card,
    deleted member)."""
    stmt = (
        select(WalletPass, Card, Member, PointsAccount.available)
        .join(Card, Card.id == WalletPass.card_id)
        .join(Member, Member.id == WalletPass.member_id)
        .outerjoin(PointsAccount, PointsAccount.member_id == Member.id)
        .where(
            WalletPass.serial_number == serial_number,
            Card.status == CardStatus.ACTIVE,
            Member.status == MemberStatus.ACTIVE,
        )
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    wallet_pass, card, member, available = row
    tier, colours = await _tier_of(session, member.id)
    return PassSubject(
        wallet_pass=wallet_pass,
        card_number=card.number,
        member_public_id=member.public_id,
        member_name=display_name(member),
        language=member.language,
        balance=int(available or 0),
        tier=tier,
        colours=(colours[0], colours[1], colours[2]),
    )


def display_name(member: Member) -> str:
    name = " ".join(part for part in (member.first_name, member.last_name) if part)
    return name or "Happy"


async def _bump(session: AsyncSession, wallet_pass: WalletPass, now: datetime) -> None:
    moment = whole_seconds(now)
    if moment <= wallet_pass.updated_at:
        moment = wallet_pass.updated_at + timedelta(seconds=1)
    wallet_pass.updated_at = moment
    wallet_pass.version += 1


NAME_FIELDS = frozenset({"first_name", "last_name", "language"})


async def bump_member_passes(session: AsyncSession, member_id: int, now: datetime) -> int:
    """Move the update tag of the member's passes on (same transaction as the change they
    show); returns how many passes the member has. Members without one cost one indexed
    query."""
    passes = (
        await session.scalars(
            select(WalletPass).where(WalletPass.member_id == member_id).with_for_update()
        )
    ).all()
    for wallet_pass in passes:
        await _bump(session, wallet_pass, now)
    if passes:
        await session.flush()
    else:
        # Remembered for this transaction: the outbox conditions of the same change (has a
        # pass? a registered device?) need no statement of their own.
        session.info.setdefault(_PASSLESS, set()).add(member_id)
    return len(passes)


# Members this transaction found without a pass (until it creates one for them).
_PASSLESS = "happy_wallet_passless"


def _known_passless(session: AsyncSession, member_id: int) -> bool:
    return member_id in session.info.get(_PASSLESS, ())


async def has_pass(session: AsyncSession, member_id: int) -> bool:
    if _known_passless(session, member_id):
        return False
    found = await session.scalar(
        select(WalletPass.id).where(WalletPass.member_id == member_id).limit(1)
    )
    return found is not None


async def has_registered_device(session: AsyncSession, member_id: int) -> bool:
    if _known_passless(session, member_id):
        return False
    found = await session.scalar(
        select(WalletDeviceRegistration.id)
        .join(WalletPass, WalletPass.id == WalletDeviceRegistration.pass_id)
        .where(WalletPass.member_id == member_id)
        .limit(1)
    )
    return found is not None


async def push_tokens_of_member(session: AsyncSession, member_id: int) -> list[str]:
    """The push tokens of every device that registered one of the member's passes."""
    rows = await session.scalars(
        select(WalletDeviceRegistration.push_token)
        .join(WalletPass, WalletPass.id == WalletDeviceRegistration.pass_id)
        .where(WalletPass.member_id == member_id)
        .distinct()
        .order_by(WalletDeviceRegistration.push_token)
    )
    return list(rows)


@dataclass(frozen=True)
class GoogleObjectState:
    """What the member's Google loyalty object shows now."""

    object_suffix: str
    balance: int
    account_name: str
    tier: str = DEFAULT_TIER


async def google_object_state(session: AsyncSession, member_id: int) -> GoogleObjectState | None:
    """The current balance and name for the member's Google object, or None when there is
    nothing to update (no pass, account deleted)."""
    stmt = (
        select(Member, PointsAccount.available)
        .outerjoin(PointsAccount, PointsAccount.member_id == Member.id)
        .where(Member.id == member_id, Member.status == MemberStatus.ACTIVE)
    )
    row = (await session.execute(stmt)).first()
    if row is None or not await has_pass(session, member_id):
        return None
    member, available = row
    return GoogleObjectState(
        object_suffix=object_suffix_for(member.public_id),
        balance=int(available or 0),
        account_name=display_name(member),
        tier=(await _tier_of(session, member_id))[0],
    )


# --- Apple device registrations -----------------------------------------------------------


async def pass_by_serial(session: AsyncSession, serial_number: str) -> WalletPass | None:
    """The pass with this serial while its card and member are active (else None: a device
    must not register for, or keep, the pass of a closed card or a deleted account)."""
    stmt = (
        select(WalletPass)
        .join(Card, Card.id == WalletPass.card_id)
        .join(Member, Member.id == WalletPass.member_id)
        .where(
            WalletPass.serial_number == serial_number,
            Card.status == CardStatus.ACTIVE,
            Member.status == MemberStatus.ACTIVE,
        )
    )
    return await session.scalar(stmt)


async def register_device(
    session: AsyncSession,
    *,
    device_library_id: str,
    pass_type_id: str,
    wallet_pass: WalletPass,
    push_token: str,
    now: datetime,
) -> bool:
    """Register (or refresh the push token of) a device for a pass; True when new."""
    inserted = await session.execute(
        insert_ignoring_conflicts(
            session,
            WalletDeviceRegistration.__table__,
            {
                "device_library_id": device_library_id,
                "pass_type_id": pass_type_id,
                "pass_id": wallet_pass.id,
                "push_token": push_token,
                "created_at": now,
                "updated_at": now,
            },
            ("device_library_id", "pass_type_id", "pass_id"),
        ).returning(WalletDeviceRegistration.__table__.c.id)
    )
    if inserted.scalar_one_or_none() is not None:
        return True
    existing = await session.scalar(
        select(WalletDeviceRegistration).where(
            WalletDeviceRegistration.device_library_id == device_library_id,
            WalletDeviceRegistration.pass_type_id == pass_type_id,
            WalletDeviceRegistration.pass_id == wallet_pass.id,
        )
    )
    if existing is not None and existing.push_token != push_token:
        existing.push_token = push_token
        existing.updated_at = now
        await session.flush()
    return False


async def unregister_device(
    session: AsyncSession, *, device_library_id: str, pass_type_id: str, wallet_pass: WalletPass
) -> None:
    await session.execute(
        delete(WalletDeviceRegistration).where(
            WalletDeviceRegistration.device_library_id == device_library_id,
            WalletDeviceRegistration.pass_type_id == pass_type_id,
            WalletDeviceRegistration.pass_id == wallet_pass.id,
        )
    )


async def remove_push_token(session: AsyncSession, push_token: str) -> int:
    """Forget every registration with this push token (APNs said 410: device gone)."""
    result = await session.execute(
        delete(WalletDeviceRegistration).where(WalletDeviceRegistration.push_token == push_token)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def forget_devices(session: AsyncSession, member_id: int) -> None:
    """Account deleted: forget the devices that held the member's passes (push tokens are
    personal data). Their next request for the pass gets 401."""
    pass_ids = select(WalletPass.id).where(WalletPass.member_id == member_id)
    await session.execute(
        delete(WalletDeviceRegistration).where(WalletDeviceRegistration.pass_id.in_(pass_ids))
    )


async def google_object_suffix_of(session: AsyncSession, member_id: int) -> str | None:
    """The member's Google object suffix if they have a pass, whatever the account's
    status (a deleted account's object is cleared after the deletion)."""
    public_id = await session.scalar(select(Member.public_id).where(Member.id == member_id))
    if public_id is None or not await has_pass(session, member_id):
        return None
    return object_suffix_for(public_id)


async def serials_of_member(session: AsyncSession, member_id: int) -> list[str]:
    rows = await session.scalars(
        select(WalletPass.serial_number).where(WalletPass.member_id == member_id)
    )
    return list(rows)


async def serials_updated_since(
    session: AsyncSession, *, device_library_id: str, pass_type_id: str, since: str | None
) -> tuple[list[str], str | None]:
    """Serial numbers of the device's passes changed after tag ``since`` (all without one),
    and the tag to send next time."""
    stmt = (
        select(WalletPass.serial_number, WalletPass.updated_at)
        .join(WalletDeviceRegistration, WalletDeviceRegistration.pass_id == WalletPass.id)
        .where(
            WalletDeviceRegistration.device_library_id == device_library_id,
            WalletDeviceRegistration.pass_type_id == pass_type_id,
        )
        .order_by(WalletPass.serial_number)
    )
    rows = (await session.execute(stmt)).all()
    if not rows:
        return [], None
    threshold = parse_update_tag(since)
    changed = [
        (serial, updated)
        for serial, updated in rows
        if threshold is None or int(updated.timestamp()) > threshold
    ]
    if not changed:
        return [], None
    return [serial for serial, _ in changed], update_tag(max(u for _, u in changed))


# --- reads for the member door ---------------------------------------------------------


async def passes_of_cards(
    session: AsyncSession, card_numbers: Sequence[str]
) -> dict[str, WalletPass]:
    """The pass records of these active cards by card number (cards without one left out;
    see :func:`ensure_passes_for_cards`)."""
    stmt = (
        select(Card.number, WalletPass)
        .join(WalletPass, WalletPass.card_id == Card.id)
        .where(Card.number.in_(card_numbers), Card.status == CardStatus.ACTIVE)
    )
    return {number: wallet_pass for number, wallet_pass in (await session.execute(stmt)).all()}


@dataclass(frozen=True)
class SaveLinkSubject:
    """What a Google Wallet save link shows of a member."""

    member_public_id: str
    member_name: str
    balance: int
    tier: str = DEFAULT_TIER


async def save_link_subject(session: AsyncSession, member_id: int) -> SaveLinkSubject | None:
    """The member's name and balance for the save link, or None for an unknown member."""
    stmt = (
        select(Member, PointsAccount.available)
        .outerjoin(PointsAccount, PointsAccount.member_id == Member.id)
        .where(Member.id == member_id)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    member, available = row
    return SaveLinkSubject(
        member_public_id=member.public_id,
        member_name=display_name(member),
        balance=int(available or 0),
        tier=(await _tier_of(session, member_id))[0],
    )
