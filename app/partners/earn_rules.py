"""Earn rules as data: what a partner pays points for, loaded and changed here.

A partner has a base rate per currency (``points`` per ``per_amount`` minor units) and
modifiers per brand or category: a multiplier in percent (200 = double points), where
0 excludes the brand or category from earning. How these turn into points (which
multiplier wins, the order of modifiers, rounding) is the one scoring function's business:
``app/receipts/scoring.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import programme_cache
from app.errors import InvalidInput
from app.partners.earn_rule_models import EarnModifier, EarnRate, ModifierKind
from app.partners.models import Partner
from app.partners.service import get_partner

# Default base rates: about one point per euro spent in every market's currency.
DEFAULT_RATES: dict[str, tuple[int, int]] = {
    "EUR": (1, 100),  # 1 point per 1.00 EUR
    "ALL": (1, 10000),  # 1 point per 100.00 ALL
    "MKD": (1, 6000),  # 1 point per 60.00 MKD
}


@dataclass(frozen=True)
class PartnerRules:
    """A partner's rules for one currency; ``modifiers`` keyed by (kind, lower-cased match)."""

    partner_id: int
    currency: str
    rate_points: int
    rate_per_amount: int
    modifiers: dict[tuple[ModifierKind, str], int]


async def rules_for(session: AsyncSession, partner_id: int, currency: str) -> PartnerRules:
    """The partner's rules for receipts in ``currency`` (no rate: no points, not an error).
    Cached per process (:mod:`app.programme_cache`)."""
    return await programme_cache.cached(
        session,
        ("earn_rules", partner_id, currency),
        lambda: _load_rules(session, partner_id, currency),
    )


async def _load_rules(session: AsyncSession, partner_id: int, currency: str) -> PartnerRules:
    rate = (
        await session.execute(
            select(EarnRate).where(EarnRate.partner_id == partner_id, EarnRate.currency == currency)
        )
    ).scalar_one_or_none()
    modifiers = (
        await session.execute(select(EarnModifier).where(EarnModifier.partner_id == partner_id))
    ).scalars()
    return PartnerRules(
        partner_id=partner_id,
        currency=currency,
        rate_points=rate.points if rate else 0,
        rate_per_amount=rate.per_amount if rate else 1,
        modifiers={(m.kind, m.match): m.multiplier_pct for m in modifiers},
    )


async def set_rate(
    session: AsyncSession,
    *,
    partner_code: str,
    currency: str,
    points: int,
    per_amount: int,
    now: datetime,
) -> EarnRate:
    """Set the partner's base rate for one currency (operator CLI, demo)."""
    if points < 0 or per_amount <= 0 or len(currency) != 3:
        raise InvalidInput(field="rate")
    programme_cache.changed(session)
    partner = await get_partner(session, partner_code)
    rate = (
        await session.execute(
            select(EarnRate).where(
                EarnRate.partner_id == partner.id, EarnRate.currency == currency.upper()
            )
        )
    ).scalar_one_or_none()
    if rate is None:
        rate = EarnRate(partner_id=partner.id, currency=currency.upper(), updated_at=now)
        session.add(rate)
    rate.points = points
    rate.per_amount = per_amount
    rate.updated_at = now
    await session.flush()
    return rate


async def set_modifier(
    session: AsyncSession,
    *,
    partner_code: str,
    kind: ModifierKind,
    match: str,
    multiplier_pct: int | None,
    now: datetime,
) -> EarnModifier | None:
    """Set (or with ``multiplier_pct`` None, remove) a brand or category modifier."""
    if not match.strip() or (multiplier_pct is not None and multiplier_pct < 0):
        raise InvalidInput(field="multiplier")
    programme_cache.changed(session)
    partner = await get_partner(session, partner_code)
    key = match.strip().lower()
    modifier = (
        await session.execute(
            select(EarnModifier).where(
                EarnModifier.partner_id == partner.id,
                EarnModifier.kind == kind,
                EarnModifier.match == key,
            )
        )
    ).scalar_one_or_none()
    if multiplier_pct is None:
        if modifier is not None:
            await session.delete(modifier)
            await session.flush()
        return None
    if modifier is None:
        modifier = EarnModifier(partner_id=partner.id, kind=kind, match=key, updated_at=now)
        session.add(modifier)
    modifier.multiplier_pct = multiplier_pct
    modifier.updated_at = now
    await session.flush()
    return modifier


async def list_rules(
    session: AsyncSession,
) -> tuple[list[tuple[Partner, EarnRate]], list[tuple[Partner, EarnModifier]]]:
    rates = await session.execute(
        select(Partner, EarnRate)
        .join(EarnRate, EarnRate.partner_id == Partner.id)
        .order_by(Partner.code, EarnRate.currency)
    )
    modifiers = await session.execute(
        select(Partner, EarnModifier)
        .join(EarnModifier, EarnModifier.partner_id == Partner.id)
        .order_by(Partner.code, EarnModifier.kind, EarnModifier.match)
    )
    return [(p, r) for p, r in rates.all()], [(p, m) for p, m in modifiers.all()]


# Demo rules (SPEC's coalition): (partner, kind, match, multiplier %).
DEMO_MODIFIERS: list[tuple[str, ModifierKind, str, int]] = [
    ("SPAR", ModifierKind.CATEGORY, "tobacco", 0),
    ("SPAR", ModifierKind.CATEGORY, "lottery", 0),
    ("SPAR", ModifierKind.CATEGORY, "gift cards", 0),
    ("SPAR", ModifierKind.BRAND, "spar", 200),
    ("NEPTUN", ModifierKind.CATEGORY, "accessories", 200),
    ("NEPTUN", ModifierKind.CATEGORY, "gift cards", 0),
    ("SMARTPOINT", ModifierKind.CATEGORY, "gift cards", 0),
    ("JUMBO", ModifierKind.CATEGORY, "toys", 150),
    ("FGA", ModifierKind.BRAND, "mango", 150),
]


async def seed_demo_rules(session: AsyncSession, partner_codes: list[str], now: datetime) -> int:
    """Default rates for every demo partner and currency, and the demo modifiers.

    Idempotent, and never overwrites a rule an operator already set.
    """
    programme_cache.changed(session)
    count = 0
    for code in partner_codes:
        partner = await get_partner(session, code)
        existing = set(
            (
                await session.execute(
                    select(EarnRate.currency).where(EarnRate.partner_id == partner.id)
                )
            ).scalars()
        )
        for currency, (points, per_amount) in DEFAULT_RATES.items():
            if currency not in existing:
                session.add(
                    EarnRate(
                        partner_id=partner.id,
                        currency=currency,
                        points=points,
                        per_amount=per_amount,
                        updated_at=now,
                    )
                )
            count += 1
    await session.flush()
    for code, kind, match, pct in DEMO_MODIFIERS:
        partner = await get_partner(session, code)
        found = (
            await session.execute(
                select(EarnModifier.id).where(
                    EarnModifier.partner_id == partner.id,
                    EarnModifier.kind == kind,
                    EarnModifier.match == match,
                )
            )
        ).scalar_one_or_none()
        if found is None:
            session.add(
                EarnModifier(
                    partner_id=partner.id,
                    kind=kind,
                    match=match,
                    multiplier_pct=pct,
                    updated_at=now,
                )
            )
        count += 1
    await session.flush()
    return count
