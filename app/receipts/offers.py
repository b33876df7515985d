"""The member's tier and their offers at the till, plugged into the one scoring function.

:func:`prepare` reads what may apply (two queries, whatever the number of live offers:
the member's tier and last purchase, then the live offers with the member's state);
:func:`settle` then reserves each applicable offer in offer id order with guarded
updates (a use, then the budget) and scores the receipt with the offers that got their
reservation. A multiplier offer that cannot be reserved is dropped and the receipt scored
again; the reservations of the offers before it follow the new score (released, or taken
further if the budget allows, else dropped too), so what is reserved is exactly what is
credited.

Stacking: tier first (its earn bonus in percentage points), then every multiplier offer
on the multiplier after the tier (offers never compound each other), then the flat
bonuses, each its own breakdown item and ledger entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.ledger.models import PointsEntry
from app.members.models import Member
from app.offers import service as offers
from app.offers.models import Mechanic, Offer
from app.partners.earn_rules import PartnerRules
from app.receipts.scoring import (
    BASE_PCT,
    BreakdownKind,
    LineToScore,
    ModifierStage,
    Score,
    ScoringContext,
    score_receipt,
)


@dataclass(frozen=True)
class TierModifier:
    code: str
    name: str
    percent: int
    stage: ModifierStage = ModifierStage.TIER
    kind: BreakdownKind = BreakdownKind.TIER

    @property
    def rule(self) -> str:
        return f"tier:{self.code}"

    @property
    def title(self) -> str | None:
        return self.name

    def extra_percent(self, line: LineToScore, multiplier_pct: int) -> int:
        return self.percent


@dataclass(frozen=True)
class OfferModifier:
    """A multiplier offer: the qualifying line's multiplier x ``percent`` / 100."""

    offer: Offer
    title: str | None
    stage: ModifierStage = ModifierStage.OFFER
    kind: BreakdownKind = BreakdownKind.OFFER

    @property
    def rule(self) -> str:
        return f"offer:{self.offer.id}"

    def extra_percent(self, line: LineToScore, multiplier_pct: int) -> int:
        if not offers.line_in_scope(self.offer, line):
            return 0
        return multiplier_pct * (self.offer.multiplier_pct - BASE_PCT) // BASE_PCT


@dataclass(frozen=True)
class FixedBonus:
    """A flat bonus decided before scoring (reserved already)."""

    offer: Offer
    title: str | None
    points: int

    @property
    def rule(self) -> str:
        return f"offer:{self.offer.id}"

    def bonus_points(self, earning_lines: Sequence[LineToScore]) -> int:
        return self.points


@dataclass
class Award:
    offer: Offer
    points: int
    qualifying: int


@dataclass
class TillOffers:
    member_id: int
    language: str
    tier: TierModifier | None
    candidates: list[offers.LiveOffer]
    multipliers: dict[int, Offer] = field(default_factory=dict)
    flats: dict[int, FixedBonus] = field(default_factory=dict)
    contributions: dict[int, int] = field(default_factory=dict)  # aggregated: spend counted

    def context(self) -> ScoringContext:
        modifiers: list[TierModifier | OfferModifier] = [self.tier] if self.tier else []
        modifiers += [
            OfferModifier(o, o.title_in(self.language)) for _, o in sorted(self.multipliers.items())
        ]
        return ScoringContext(
            modifiers=tuple(modifiers),
            bonuses=tuple(b for _, b in sorted(self.flats.items())),
        )

    def provisional(self, rules: PartnerRules, lines: Sequence[LineToScore]) -> Score:
        """Every candidate multiplier applied (before any reservation)."""
        for live in self.candidates:
            if live.offer.mechanic == Mechanic.MULTIPLIER:
                self.multipliers[live.id] = live.offer
        return score_receipt(rules, lines, self.context())


async def prepare(
    session: AsyncSession,
    member: Member,
    *,
    partner_id: int,
    store_id: int,
    currency: str,
    issued_at: datetime,
    facts: offers.MemberFacts | None = None,
) -> TillOffers:
    """The member's tier and the offers that may apply (``facts``: read with the member
    already, else one query here)."""
    if facts is None:
        facts = await offers.member_facts(session, member)
    tier = None
    if facts.tier_code is not None and facts.tier_bonus_pct:
        tier = TierModifier(
            facts.tier_code, facts.tier_name or facts.tier_code, facts.tier_bonus_pct
        )
    candidates = await offers.offers_at_till(
        session,
        facts,
        partner_id=partner_id,
        store_id=store_id,
        currency=currency,
        issued_at=issued_at,
    )
    return TillOffers(member.id, member.language, tier, candidates)


def _offer_points(score: Score, offer_id: int) -> int:
    rule = f"offer:{offer_id}"
    return sum(i.points for i in score.breakdown if i.rule == rule and i not in score.bonuses)


async def settle(
    session: AsyncSession,
    till: TillOffers,
    rules: PartnerRules,
    lines: Sequence[LineToScore],
    now: datetime,
) -> tuple[Score, list[Award]]:
    """Reserve the applicable offers (guarded updates, offer id order) and score the
    receipt with those that got theirs. Call after the receipt row is inserted (a
    duplicate receipt never reserves anything)."""
    member_id = till.member_id
    score = till.provisional(rules, lines)
    earning = [line for line, s in zip(lines, score.lines, strict=True) if s.multiplier_pct > 0]
    reserved: dict[int, int] = {}  # multiplier offer id -> points reserved

    async def drop(offer: Offer) -> None:
        till.multipliers.pop(offer.id, None)
        points = reserved.pop(offer.id, None)
        if points is not None:
            await offers.give_back_budget(session, offer, points)
            await offers.give_back_use(session, offer, member_id, now)

    async def follow(score: Score) -> Score:
        """Bring the reservations made so far in line with ``score`` (fewer offers)."""
        while True:
            changed = False
            for offer_id in sorted(reserved):
                offer = till.multipliers[offer_id]
                want = _offer_points(score, offer_id)
                diff = want - reserved[offer_id]
                if want == 0:
                    await drop(offer)
                    changed = True
                elif diff < 0:
                    await offers.give_back_budget(session, offer, -diff)
                    reserved[offer_id] = want
                elif diff > 0:
                    if await offers.take_budget(session, offer, diff):
                        reserved[offer_id] = want
                    else:
                        await drop(offer)
                        changed = True
                if changed:
                    break
            if not changed:
                return score
            score = score_receipt(rules, lines, till.context())

    for live in sorted(till.candidates, key=lambda c: c.id):
        offer = live.offer
        if offer.mechanic == Mechanic.MULTIPLIER:
            want = _offer_points(score, offer.id)
            if want > 0 and await offers.take_use(session, offer, member_id, now):
                if await offers.take_budget(session, offer, want):
                    reserved[offer.id] = want
                    continue
                await offers.give_back_use(session, offer, member_id, now)
            till.multipliers.pop(offer.id, None)
            score = await follow(score_receipt(rules, lines, till.context()))
        elif offer.mechanic in (Mechanic.FIXED_BONUS, Mechanic.SPEND_GET):
            points = offers.flat_bonus(offer, earning)
            if points <= 0 or not await offers.take_use(session, offer, member_id, now):
                continue
            if not await offers.take_budget(session, offer, points):
                await offers.give_back_use(session, offer, member_id, now)
                continue
            till.flats[offer.id] = FixedBonus(offer, offer.title_in(till.language), points)
            till.contributions[offer.id] = offers.qualifying_amount(offer, earning)
        else:  # aggregated
            spend = offers.qualifying_amount(offer, earning)
            if spend <= 0:
                continue
            progress = await offers.add_progress(session, offer, member_id, spend, now)
            if progress is None:
                continue
            till.contributions[offer.id] = spend
            if progress.completed_now:
                till.flats[offer.id] = FixedBonus(
                    offer, offer.title_in(till.language), offer.points
                )
    final = score_receipt(rules, lines, till.context())
    awards = [
        Award(o, _offer_points(final, oid), offers.qualifying_amount(o, earning))
        for oid, o in sorted(till.multipliers.items())
        if _offer_points(final, oid) > 0
    ]
    for offer_id, qualifying in sorted(till.contributions.items()):
        bonus = till.flats.get(offer_id)
        offer = bonus.offer if bonus else next(c.offer for c in till.candidates if c.id == offer_id)
        awards.append(Award(offer, bonus.points if bonus else 0, qualifying))
    return final, awards


async def post_awards(
    session: AsyncSession,
    till: TillOffers,
    awards: Sequence[Award],
    receipt_id: int,
    *,
    expires_at: datetime,
    now: datetime,
) -> list[PointsEntry]:
    """Each award as its own ledger entry, and what each offer did on the receipt."""
    entries = []
    for award in awards:
        entry = None
        if award.points > 0:
            entry = await offers.post_bonus(
                session,
                offer=award.offer,
                member_id=till.member_id,
                points=award.points,
                receipt_id=receipt_id,
                language=till.language,
                expires_at=expires_at,
                now=now,
            )
            entries.append(entry)
        await offers.record_receipt(
            session,
            offer_id=award.offer.id,
            receipt_id=receipt_id,
            member_id=till.member_id,
            qualifying=award.qualifying,
            points=award.points,
            entry_id=entry.id if entry is not None else None,
            now=now,
        )
    await session.flush()
    return entries
