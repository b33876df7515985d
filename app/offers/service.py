"""Offers: created from a file by the operator, shown to the members they are meant for,
activated, and applied at the till (with ``app/receipts/offers.py``, which plugs them into
the one scoring function).

Money-grade rules:
- **Budget**: ``UPDATE offers SET budget_left = budget_left - p WHERE budget_left >= p
  RETURNING``: never read-then-write; a bonus that does not fit whole is not given.
- **Uses per member**: ``UPDATE offer_members SET uses = uses + 1 WHERE uses < max``.
- Locks are always taken in the same order (a member's offer rows, then the offer row, in
  offer id order, then the member's points account), so concurrent receipts never deadlock.
- Budgets and uses spent on a receipt that is later returned stay spent (a return takes
  the points back; it does not give the member another go at the offer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, cast

from dateutil.relativedelta import relativedelta
from sqlalchemy import Table, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import insert_ignoring_conflicts
from app.errors import ErrorCode, NotFound, OfferRejected
from app.ledger import service as ledger
from app.ledger.models import EntryKind, PointsAccount, PointsEntry
from app.members.models import Member
from app.offers.definition import OfferDefinition, OfferFileError
from app.offers.models import (
    Mechanic,
    Offer,
    OfferMember,
    OfferReceipt,
    OfferStatus,
    Scope,
    Segment,
)
from app.partners.models import Partner, Store
from app.tiers.models import MemberTier, Tier

# --- operator ----------------------------------------------------------------------------


async def create_offer(session: AsyncSession, definition: OfferDefinition, now: datetime) -> Offer:
    """Store a checked offer file; partner, store and tier codes must exist."""
    d = definition
    funder_id = None
    if d.funder is not None:
        funder_id = await session.scalar(select(Partner.id).where(Partner.code == d.funder))
        if funder_id is None:
            raise OfferFileError("funder", f"no partner with code {d.funder!r}")
    partner_ids = None
    if d.partner_codes is not None:
        partner_ids = []
        for i, code in enumerate(d.partner_codes):
            found = await session.scalar(select(Partner.id).where(Partner.code == code))
            if found is None:
                raise OfferFileError(f"where.partners.{i}", f"no partner with code {code!r}")
            partner_ids.append(found)
    store_ids = None
    if d.store_codes is not None:
        store_ids = []
        for i, code in enumerate(d.store_codes):
            store = await session.scalar(select(Store).where(Store.code == code))
            if store is None:
                raise OfferFileError(f"where.stores.{i}", f"no store with code {code!r}")
            if partner_ids is not None and store.partner_id not in partner_ids:
                raise OfferFileError(
                    f"where.stores.{i}", "belongs to a partner not in where.partners"
                )
            if d.currency is not None and store.currency != d.currency:
                raise OfferFileError(
                    f"where.stores.{i}", f"takes {store.currency}, not {d.currency}"
                )
            store_ids.append(store.id)
    if d.segment == Segment.TIER:
        if await session.scalar(select(Tier.id).where(Tier.code == d.segment_value)) is None:
            raise OfferFileError(
                "segment.tier", f"no tier {d.segment_value!r} (see `happy tier list`)"
            )
    offer = Offer(
        funder_partner_id=funder_id,
        titles=d.titles,
        descriptions=d.descriptions,
        image_url=d.image_url,
        starts_at=d.starts_at,
        ends_at=d.ends_at,
        partner_ids=partner_ids,
        store_ids=store_ids,
        segment=d.segment,
        segment_value=d.segment_value,
        mechanic=d.mechanic,
        scope=d.scope,
        scope_values=d.scope_values,
        points=d.points,
        multiplier_pct=d.multiplier_pct,
        min_spend=d.min_spend,
        currency=d.currency,
        activation_required=d.activation_required,
        uses_per_member=d.uses_per_member,
        budget_points=d.budget,
        budget_left=d.budget,
        status=OfferStatus.ACTIVE,
        created_at=now,
        updated_at=now,
    )
    session.add(offer)
    await session.flush()
    return offer


async def list_offers(session: AsyncSession) -> list[Offer]:
    return list(await session.scalars(select(Offer).order_by(Offer.id)))


async def get_offer(session: AsyncSession, offer_id: int) -> Offer:
    offer = await session.get(Offer, offer_id)
    if offer is None:
        raise NotFound(field="offer")
    return offer


async def set_status(
    session: AsyncSession, offer_id: int, status: OfferStatus, now: datetime
) -> Offer:
    offer = await get_offer(session, offer_id)
    offer.status = status
    offer.updated_at = now
    await session.flush()
    return offer


@dataclass(frozen=True)
class OfferStats:
    offer_id: int
    points_awarded: int
    points_reversed: int
    members_reached: int
    receipts: int
    activations: int
    budget_points: int | None
    budget_left: int | None


async def offer_stats(session: AsyncSession, offer_id: int) -> OfferStats:
    offer = await get_offer(session, offer_id)
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(OfferReceipt.points), 0),
                func.coalesce(func.sum(OfferReceipt.points_reversed), 0),
                func.count(func.distinct(OfferReceipt.member_id)),
                func.count(OfferReceipt.id),
            ).where(OfferReceipt.offer_id == offer_id, OfferReceipt.points > 0)
        )
    ).one()
    activations = await session.scalar(
        select(func.count()).where(
            OfferMember.offer_id == offer_id, OfferMember.activated_at.is_not(None)
        )
    )
    return OfferStats(
        offer_id=offer.id,
        points_awarded=int(row[0]),
        points_reversed=int(row[1]),
        members_reached=int(row[2]),
        receipts=int(row[3]),
        activations=int(activations or 0),
        budget_points=offer.budget_points,
        budget_left=offer.budget_left,
    )


# --- who an offer is meant for ------------------------------------------------------------


@dataclass(frozen=True)
class MemberFacts:
    """What segments read of a member, in one query (:func:`member_facts`)."""

    member_id: int
    joined_at: datetime
    birth_date: date | None
    city: str | None
    language: str
    tier_code: str | None
    tier_name: str | None
    tier_bonus_pct: int
    last_purchase_at: datetime | None


def member_facts_columns(member_id: Any) -> list[Any]:
    """The columns of :class:`MemberFacts` beyond the member row (held tier, else the base
    tier; last purchase) for the member ``member_id`` (a value or a column), as scalar
    subqueries: a caller can read them with the member in its own statement."""

    def tier_column(column: Any) -> Any:
        # The held tier's value, else the base tier's (lowest threshold). One level of
        # subquery per part, so that with ``member_id`` a column (the caller's members
        # row) the held part correlates to it on every database (a subquery nested in
        # another's ORDER BY once did not: it read every member's tier row).
        held = (
            select(column)
            .select_from(MemberTier)
            .join(Tier, Tier.id == MemberTier.tier_id)
            .where(MemberTier.member_id == member_id)
            .scalar_subquery()
        )
        base = select(column).order_by(Tier.threshold, Tier.id).limit(1).scalar_subquery()
        return func.coalesce(held, base)

    last = (
        select(func.max(PointsEntry.created_at))
        .where(PointsEntry.member_id == member_id, PointsEntry.kind == EntryKind.EARN)
        .scalar_subquery()
    )
    return [tier_column(Tier.code), tier_column(Tier.name), tier_column(Tier.earn_bonus_pct), last]


def facts_from(member: Member, values: Sequence[Any]) -> MemberFacts:
    """:class:`MemberFacts` from the member and the values of :func:`member_facts_columns`."""
    code, name, bonus, last_at = values
    if isinstance(last_at, str):  # SQLite returns an aggregate's time as text
        last_at = datetime.fromisoformat(last_at)
    if last_at is not None and last_at.tzinfo is None:
        from app.clock import as_utc

        last_at = as_utc(last_at)
    return MemberFacts(
        member_id=member.id,
        joined_at=member.created_at,
        birth_date=member.birth_date,
        city=member.city,
        language=member.language,
        tier_code=code,
        tier_name=name,
        tier_bonus_pct=int(bonus or 0),
        last_purchase_at=last_at,
    )


async def member_facts(session: AsyncSession, member: Member) -> MemberFacts:
    """The member's tier (held, else the base tier) and last purchase: ONE query."""
    row = (await session.execute(select(*member_facts_columns(member.id)))).one()
    return facts_from(member, tuple(row))


def in_segment(offer: Offer, facts: MemberFacts, at: datetime) -> bool:
    """Whether the offer is meant for this member at ``at``."""
    value = offer.segment_value
    match offer.segment:
        case Segment.ALL:
            return True
        case Segment.TIER:
            return facts.tier_code == value
        case Segment.NEW_MEMBERS:
            joined: datetime = facts.joined_at + relativedelta(days=int(value or 0))
            return at < joined
        case Segment.BIRTHDAY_MONTH:
            return facts.birth_date is not None and facts.birth_date.month == at.month
        case Segment.CITY:
            return (facts.city or "").strip().casefold() == (value or "").casefold()
        case Segment.DORMANT:
            since = facts.last_purchase_at or facts.joined_at
            quiet_until: datetime = since + relativedelta(days=int(value or 0))
            return at >= quiet_until
    return False  # pragma: no cover


def applies_at(offer: Offer, partner_id: int, store_id: int) -> bool:
    if offer.partner_ids is not None and partner_id not in offer.partner_ids:
        return False
    return offer.store_ids is None or store_id in offer.store_ids


class LineView(Protocol):
    @property
    def amount(self) -> int: ...

    @property
    def brand(self) -> str | None: ...

    @property
    def category(self) -> str | None: ...

    @property
    def sku(self) -> str: ...


def line_in_scope(offer: Offer, line: LineView) -> bool:
    match offer.scope:
        case Scope.ALL:
            return True
        case Scope.BRAND:
            value = line.brand
        case Scope.CATEGORY:
            value = line.category
        case Scope.SKU:
            value = line.sku
    return value is not None and value.strip().lower() in offer.scope_values


def qualifying_amount(offer: Offer, earning_lines: Sequence[LineView]) -> int:
    """The spend on the lines this offer looks at (lines that earn points only)."""
    return sum(line.amount for line in earning_lines if line_in_scope(offer, line))


def flat_bonus(offer: Offer, earning_lines: Sequence[LineView]) -> int:
    """A fixed bonus or a spend-X-get-Y bonus for one receipt (0: does not qualify)."""
    spend = qualifying_amount(offer, earning_lines)
    if spend <= 0 or spend < offer.min_spend:
        return 0
    return offer.points


@dataclass
class LiveOffer:
    """A live offer at this till with the member's state on it."""

    offer: Offer
    state: OfferMember | None

    @property
    def id(self) -> int:
        return self.offer.id

    def usable(self) -> bool:
        offer, state = self.offer, self.state
        if offer.activation_required and (state is None or state.activated_at is None):
            return False
        if offer.uses_per_member is not None and state is not None:
            if state.uses >= offer.uses_per_member:
                return False
        if offer.budget_left is not None and offer.budget_left <= 0:
            return False
        return not (offer.mechanic == Mechanic.AGGREGATE_SPEND and state and state.completed_at)


async def offers_at_till(
    session: AsyncSession,
    facts: MemberFacts,
    *,
    partner_id: int,
    store_id: int,
    currency: str,
    issued_at: datetime,
) -> list[LiveOffer]:
    """The offers that may apply to this receipt: ONE query whatever the number of live
    offers (offers live when the receipt was issued, with the member's state joined)."""
    rows = await session.execute(
        select(Offer, OfferMember)
        .outerjoin(
            OfferMember,
            (OfferMember.offer_id == Offer.id) & (OfferMember.member_id == facts.member_id),
        )
        .where(
            Offer.status == OfferStatus.ACTIVE,
            Offer.starts_at <= issued_at,
            Offer.ends_at > issued_at,
        )
        .order_by(Offer.id)
    )
    found = []
    for offer, state in rows.all():
        live = LiveOffer(offer, state)
        if (
            applies_at(offer, partner_id, store_id)
            and (offer.currency is None or offer.currency == currency)
            and in_segment(offer, facts, issued_at)
            and live.usable()
        ):
            found.append(live)
    return found


# --- reservations (guarded updates) ---------------------------------------------------------


def _offer_members() -> Table:
    return cast(Table, OfferMember.__table__)


def _offers() -> Table:
    return cast(Table, Offer.__table__)


async def _ensure_state(
    session: AsyncSession, offer_id: int, member_id: int, now: datetime
) -> None:
    await session.execute(
        insert_ignoring_conflicts(
            session,
            _offer_members(),
            {
                "offer_id": offer_id,
                "member_id": member_id,
                "activated_at": None,
                "uses": 0,
                "progress": 0,
                "completed_at": None,
                "updated_at": now,
            },
            ("offer_id", "member_id"),
        )
    )


async def take_use(session: AsyncSession, offer: Offer, member_id: int, now: datetime) -> bool:
    """One use of the offer for the member, if they have one left (and activated it)."""
    if offer.uses_per_member is None and not offer.activation_required:
        return True
    await _ensure_state(session, offer.id, member_id, now)
    table = _offer_members()
    stmt = update(table).where(table.c.offer_id == offer.id, table.c.member_id == member_id)
    if offer.uses_per_member is not None:
        stmt = stmt.where(table.c.uses < offer.uses_per_member)
    if offer.activation_required:
        stmt = stmt.where(table.c.activated_at.is_not(None))
    got = await session.execute(
        stmt.values(uses=table.c.uses + 1, updated_at=now).returning(table.c.uses)
    )
    return got.scalar_one_or_none() is not None


async def give_back_use(session: AsyncSession, offer: Offer, member_id: int, now: datetime) -> None:
    if offer.uses_per_member is None and not offer.activation_required:
        return
    table = _offer_members()
    await session.execute(
        update(table)
        .where(table.c.offer_id == offer.id, table.c.member_id == member_id, table.c.uses > 0)
        .values(uses=table.c.uses - 1, updated_at=now)
    )


async def take_budget(session: AsyncSession, offer: Offer, points: int) -> bool:
    """``points`` from the offer's budget, whole or not at all."""
    if offer.budget_points is None or points <= 0:
        return True
    table = _offers()
    got = await session.execute(
        update(table)
        .where(table.c.id == offer.id, table.c.budget_left >= points)
        .values(budget_left=table.c.budget_left - points)
        .returning(table.c.budget_left)
    )
    return got.scalar_one_or_none() is not None


async def give_back_budget(session: AsyncSession, offer: Offer, points: int) -> None:
    if offer.budget_points is None or points <= 0:
        return
    table = _offers()
    await session.execute(
        update(table).where(table.c.id == offer.id).values(budget_left=table.c.budget_left + points)
    )


@dataclass(frozen=True)
class Progress:
    total: int
    completed_now: bool


async def add_progress(
    session: AsyncSession, offer: Offer, member_id: int, amount: int, now: datetime
) -> Progress | None:
    """Count ``amount`` towards an aggregated offer; ``completed_now`` when this crossed the
    threshold (the bonus is then reserved from the budget; if it does not fit, the offer
    stays open). None: the member has not activated an offer that needs it."""
    await _ensure_state(session, offer.id, member_id, now)
    table = _offer_members()
    stmt = update(table).where(table.c.offer_id == offer.id, table.c.member_id == member_id)
    if offer.activation_required:
        stmt = stmt.where(table.c.activated_at.is_not(None))
    row = (
        await session.execute(
            stmt.values(progress=table.c.progress + amount, updated_at=now).returning(
                table.c.progress, table.c.completed_at
            )
        )
    ).first()
    if row is None:
        return None
    total, completed = int(row[0]), row[1]
    if completed is not None or total < offer.min_spend:
        return Progress(total, False)
    if not await take_budget(session, offer, offer.points):
        return Progress(total, False)
    await session.execute(
        update(table)
        .where(table.c.offer_id == offer.id, table.c.member_id == member_id)
        .values(completed_at=now, uses=table.c.uses + 1)
    )
    return Progress(total, True)


async def record_receipt(
    session: AsyncSession,
    *,
    offer_id: int,
    receipt_id: int,
    member_id: int,
    qualifying: int,
    points: int,
    entry_id: int | None,
    now: datetime,
) -> None:
    session.add(
        OfferReceipt(
            offer_id=offer_id,
            receipt_id=receipt_id,
            member_id=member_id,
            qualifying_amount=qualifying,
            points=points,
            points_reversed=0,
            points_uncollected=0,
            entry_id=entry_id,
            created_at=now,
        )
    )


async def post_bonus(
    session: AsyncSession,
    *,
    offer: Offer,
    member_id: int,
    points: int,
    receipt_id: int,
    language: str,
    expires_at: datetime,
    now: datetime,
) -> PointsEntry:
    """The offer's bonus as its own ledger entry (kind ``offer_bonus``), once per receipt."""
    return await ledger.post(
        session,
        member_id=member_id,
        kind=EntryKind.OFFER_BONUS,
        delta=points,
        now=now,
        expires_at=expires_at,
        reference_type="receipt",
        reference_id=str(receipt_id),
        description=offer.title_in(language)[:200],
        idempotency_key=f"offer:{offer.id}:receipt:{receipt_id}",
        funded_by=offer.funder_partner_id,  # the offer's funder (None: the programme)
    )


# --- returns ---------------------------------------------------------------------------------


class RemainingLineView(LineView, Protocol):
    @property
    def refunded_amount(self) -> int: ...

    @property
    def multiplier_pct(self) -> int: ...


@dataclass(frozen=True)
class _Left:
    amount: int
    brand: str | None
    category: str | None
    sku: str


async def after_refund(
    session: AsyncSession,
    *,
    receipt_id: int,
    member_id: int,
    refund_id: str,
    lines: Sequence[RemainingLineView],
    now: datetime,
) -> int:
    """A return on a receipt: flat bonuses that no longer qualify are taken back, and
    aggregated progress goes down (a completed offer that falls below its threshold takes
    its bonus back). Never more than given; what the member already spent is recorded as
    uncollected (never a negative balance). Returns the points taken back.

    Multiplier offers are part of the receipt's line points: the receipt's own refund
    takes them back in proportion."""
    awards = (
        await session.execute(
            select(OfferReceipt, Offer)
            .join(Offer, Offer.id == OfferReceipt.offer_id)
            .where(OfferReceipt.receipt_id == receipt_id)
            .order_by(OfferReceipt.offer_id)
            .with_for_update(of=OfferReceipt)
        )
    ).all()
    if not awards:
        return 0
    left = [
        _Left(ln.amount - ln.refunded_amount, ln.brand, ln.category, ln.sku)
        for ln in lines
        if ln.multiplier_pct > 0
    ]
    taken = 0
    for award, offer in awards:
        if offer.mechanic in (Mechanic.FIXED_BONUS, Mechanic.SPEND_GET):
            award.qualifying_amount = qualifying_amount(offer, left)
            if flat_bonus(offer, left) == 0:
                taken += await _take_back(session, award, refund_id, now)
        elif offer.mechanic == Mechanic.AGGREGATE_SPEND:
            now_q = qualifying_amount(offer, left)
            dropped = award.qualifying_amount - now_q
            if dropped <= 0:
                continue
            award.qualifying_amount = now_q
            table = _offer_members()
            row = (
                await session.execute(
                    update(table)
                    .where(table.c.offer_id == offer.id, table.c.member_id == member_id)
                    .values(progress=table.c.progress - dropped, updated_at=now)
                    .returning(table.c.progress, table.c.completed_at)
                )
            ).first()
            if row is None or row[1] is None or int(row[0]) >= offer.min_spend:
                continue
            # Below the threshold again: the bonus goes back, and the offer is open again.
            # The award still standing (an offer completed, reopened by a return and
            # completed again has older awards already taken back): the newest with points
            # not yet reversed or written off.
            completed = (
                await session.execute(
                    select(OfferReceipt)
                    .where(
                        OfferReceipt.offer_id == offer.id,
                        OfferReceipt.member_id == member_id,
                        OfferReceipt.points
                        > OfferReceipt.points_reversed + OfferReceipt.points_uncollected,
                    )
                    .order_by(OfferReceipt.id.desc())
                    .limit(1)
                    .with_for_update()
                )
            ).scalar_one_or_none()
            if completed is not None:
                taken += await _take_back(session, completed, refund_id, now)
            await session.execute(
                update(table)
                .where(table.c.offer_id == offer.id, table.c.member_id == member_id)
                .values(completed_at=None, uses=case((table.c.uses > 0, table.c.uses - 1), else_=0))
            )
    await session.flush()
    return taken


async def _take_back(
    session: AsyncSession, award: OfferReceipt, refund_id: str, now: datetime
) -> int:
    due = award.points - award.points_reversed - award.points_uncollected
    if due <= 0:
        return 0
    account = (
        await session.execute(
            select(PointsAccount)
            .where(PointsAccount.member_id == award.member_id)
            .with_for_update()
        )
    ).scalar_one()
    collect = min(due, account.available)
    if collect > 0:
        await ledger.post(
            session,
            member_id=award.member_id,
            kind=EntryKind.REVERSAL,
            delta=-collect,
            now=now,
            reference_type="receipt",
            reference_id=str(award.receipt_id),
            description="offer bonus returned",
            idempotency_key=f"offer-refund:{award.id}:{refund_id}",
            consume_first_lot_of=award.entry_id,
        )
    accounts = cast(Table, PointsAccount.__table__)
    await session.execute(
        update(accounts)
        .where(accounts.c.member_id == award.member_id)
        .values(lifetime=case((accounts.c.lifetime >= due, accounts.c.lifetime - due), else_=0))
    )
    award.points_reversed += collect
    award.points_uncollected += due - collect
    return collect


# --- the member door ------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberOffer:
    offer: Offer
    state: OfferMember | None

    @property
    def activated(self) -> bool:
        return self.state is not None and self.state.activated_at is not None

    @property
    def uses_left(self) -> int | None:
        if self.offer.uses_per_member is None:
            return None
        used = self.state.uses if self.state is not None else 0
        return max(0, self.offer.uses_per_member - used)

    @property
    def progress(self) -> int | None:
        if self.offer.mechanic != Mechanic.AGGREGATE_SPEND:
            return None
        return self.state.progress if self.state is not None else 0


def _visible(item: MemberOffer, facts: MemberFacts, now: datetime) -> bool:
    offer = item.offer
    if not in_segment(offer, facts, now):
        return False
    if offer.budget_left is not None and offer.budget_left <= 0:
        return False
    if item.uses_left == 0:
        return False
    return not (item.state is not None and item.state.completed_at is not None)


async def offers_for_member(
    session: AsyncSession,
    member: Member,
    now: datetime,
    *,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[MemberOffer]:
    """The live offers meant for the member now, soonest to end first (keyset by
    ``(ends_at, id)``): segment matched, uses and budget left."""
    facts = await member_facts(session, member)
    stmt = (
        select(Offer, OfferMember)
        .outerjoin(
            OfferMember,
            (OfferMember.offer_id == Offer.id) & (OfferMember.member_id == member.id),
        )
        .where(Offer.status == OfferStatus.ACTIVE, Offer.starts_at <= now, Offer.ends_at > now)
        .order_by(Offer.ends_at, Offer.id)
    )
    if after is not None:
        ends, offer_pk = after
        stmt = stmt.where(
            (Offer.ends_at > ends) | ((Offer.ends_at == ends) & (Offer.id > offer_pk))
        )
    found: list[MemberOffer] = []
    # Segments are checked here, so read in chunks until the page is full.
    for offer, state in (await session.execute(stmt)).all():
        item = MemberOffer(offer, state)
        if _visible(item, facts, now):
            found.append(item)
            if len(found) >= limit:
                break
    return found


async def activate_offer(
    session: AsyncSession, member: Member, offer_id: int, now: datetime
) -> MemberOffer:
    """Activate an offer for the member. Raises :class:`OfferRejected` with
    OFFER_NOT_ELIGIBLE (not meant for them, used up, unknown), OFFER_EXPIRED (ended, paused,
    budget spent) or OFFER_ALREADY_ACTIVE."""
    offer = await session.get(Offer, offer_id)
    if offer is None:
        raise OfferRejected(ErrorCode.OFFER_NOT_ELIGIBLE, field="offerId")
    if (
        offer.status != OfferStatus.ACTIVE
        or offer.ends_at <= now
        or offer.starts_at > now
        or (offer.budget_left is not None and offer.budget_left <= 0)
    ):
        raise OfferRejected(ErrorCode.OFFER_EXPIRED, field="offerId")
    facts = await member_facts(session, member)
    if not in_segment(offer, facts, now):
        raise OfferRejected(ErrorCode.OFFER_NOT_ELIGIBLE, field="offerId")
    await _ensure_state(session, offer.id, member.id, now)
    table = _offer_members()
    got = await session.execute(
        update(table)
        .where(
            table.c.offer_id == offer.id,
            table.c.member_id == member.id,
            table.c.activated_at.is_(None),
        )
        .values(activated_at=now, updated_at=now)
        .returning(table.c.uses)
    )
    if got.scalar_one_or_none() is None:
        raise OfferRejected(ErrorCode.OFFER_ALREADY_ACTIVE, field="offerId")
    state = await session.scalar(
        select(OfferMember)
        .where(OfferMember.offer_id == offer.id, OfferMember.member_id == member.id)
        .execution_options(populate_existing=True)
    )
    item = MemberOffer(offer, state)
    if item.uses_left == 0:
        raise OfferRejected(ErrorCode.OFFER_NOT_ELIGIBLE, field="offerId")
    return item


async def places_of(
    session: AsyncSession, offers: Sequence[Offer]
) -> tuple[dict[int, str], dict[int, tuple[str, str]]]:
    """Partner names and store (name, city) of these offers' places: two queries a page."""
    partner_ids = {p for o in offers for p in (o.partner_ids or [])}
    partner_ids |= {o.funder_partner_id for o in offers if o.funder_partner_id is not None}
    store_ids = {s for o in offers for s in (o.store_ids or [])}
    partners: dict[int, str] = {}
    stores: dict[int, tuple[str, str]] = {}
    if partner_ids:
        rows = await session.execute(
            select(Partner.id, Partner.name).where(Partner.id.in_(partner_ids))
        )
        partners = {pid: name for pid, name in rows.all()}
    if store_ids:
        rows2 = await session.execute(
            select(Store.id, Store.name, Store.city).where(Store.id.in_(store_ids))
        )
        stores = {sid: (name, city) for sid, name, city in rows2.all()}
    return partners, stores
