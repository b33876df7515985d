"""Lifecycle messages: the after-commit outbox subscribers that turn domain events into
member messages (registered in ``app.main.assemble``).

Each handler reads what the text needs in its own short unit of work and queues the
message keyed by the event (``registered``, ``receipt:<id>``, ``claim:<id>``), so the
outbox running it twice queues one message; then it asks the dispatcher to send.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.events import MemberRegistered, ReceiptAccepted, TierChanged, VoucherIssued
from app.keys import Keys
from app.ledger import service as ledger
from app.members import service as members
from app.members.models import Member
from app.messages import service
from app.messages.channels import build_channels, records_only
from app.messages.dispatch import Dispatcher
from app.messages.links import Links
from app.messages.rules import member_zone
from app.partners.models import Partner
from app.programme.service import get_programme
from app.rewards.models import Voucher
from app.settings import Settings
from app.tiers import service as tiers

if TYPE_CHECKING:
    from app.db import Database


def local_date(at: datetime, phone: str | None, programme_zone: str) -> str:
    """A date as members read it (day.month.year) in their time zone."""
    return at.astimezone(member_zone(phone, programme_zone)).strftime("%d.%m.%Y")


def build_dispatcher(db: Database, settings: Settings, keys: Keys) -> Dispatcher:
    """A dispatcher over the configured channels (inline when they only record)."""
    composer = service.Composer(settings, Links(keys, settings.public_base_url))
    return Dispatcher(db, build_channels(settings), composer, send_inline=records_only(settings))


class LifecycleMessages:
    """The handlers of the lifecycle subscribers (one registration line each in
    ``app.main.assemble``)."""

    def __init__(self, db: Database, dispatcher: Dispatcher) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.composer = dispatcher.composer

    async def welcome(self, event: MemberRegistered) -> None:
        async with self.db.unit_of_work() as session:
            cards = await members.shown_cards(session, [event.member_id])
            card = cards.get(event.member_id)
            if card is None:
                return  # deleted meanwhile
            balance = await ledger.get_balance(session, event.member_id)
            await service.compose(
                session,
                self.composer,
                member_id=event.member_id,
                kind="welcome",
                event_key="registered",
                params={"card_number": card.number, "balance": balance.available},
                now=event.at,
            )
        await self.dispatcher.kick()

    async def points_earned(self, event: ReceiptAccepted) -> None:
        if event.points <= 0:
            return
        async with self.db.unit_of_work() as session:
            partner = await session.get(Partner, event.partner_id)
            balance = await ledger.get_balance(session, event.member_id)
            await service.compose(
                session,
                self.composer,
                member_id=event.member_id,
                kind="points_earned",
                event_key=f"receipt:{event.receipt_id}",
                params={
                    "points": event.points,
                    "partner": partner.name if partner else "",
                    "balance": balance.available,
                },
                now=event.at,
            )
        await self.dispatcher.kick()

    async def tier_up(self, event: TierChanged) -> None:
        """ "You are Happy+ now": only for a move up (a review moving a member down is not
        announced), once per member, tier and day of the change."""
        if not event.tier:
            return
        async with self.db.unit_of_work() as session:
            thresholds = {rule.code: rule.threshold for rule in await tiers.list_tiers(session)}
            new = thresholds.get(event.tier)
            old = thresholds.get(event.previous, -1) if event.previous else -1
            if new is None or new <= old:
                return
            await service.compose(
                session,
                self.composer,
                member_id=event.member_id,
                kind="tier_up",
                event_key=f"tier:{event.tier}:{event.at.date().isoformat()}",
                params={"tier": event.tier_name},
                now=event.at,
            )
        await self.dispatcher.kick()

    async def vouchers_ready(self, event: VoucherIssued) -> None:
        if not event.voucher_ids:
            return
        async with self.db.unit_of_work() as session:
            vouchers = list(
                await session.scalars(select(Voucher).where(Voucher.id.in_(event.voucher_ids)))
            )
            member = await session.get(Member, event.member_id)
            if not vouchers or member is None:
                return
            zone = (await get_programme(session)).timezone
            first_expiry = min(v.expires_at for v in vouchers)
            await service.compose(
                session,
                self.composer,
                member_id=event.member_id,
                kind="vouchers_ready",
                event_key=f"claim:{event.claim_id}",
                params={
                    "count": len(vouchers),
                    "expires_on": local_date(first_expiry, member.phone_e164, zone),
                },
                now=event.at,
            )
        await self.dispatcher.kick()
