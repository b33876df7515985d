"""The one scoring function: a receipt's lines and the partner's rules in, points out.

Pure arithmetic (no database, no clock): :func:`score_receipt` scores a receipt,
:func:`rescore_remaining` and :func:`points_due_back` score what a refund leaves. Nothing
else in the code base computes points.

A line's multiplier is built in this order, each step seeing the result of the one before:

1. **Base rate**: ``rate.points`` points per ``rate.per_amount`` minor units, at 100 %.
2. **The partner's brand and category rules** (SPEC "Earning at partners"): an excluded
   brand or category (0 %) earns nothing, whatever else applies, and no later step touches
   the line; otherwise the highest multiplier among the line's brand and category replaces
   the 100 % (multipliers do not stack, so a partner cannot compound two promotions by
   accident).
3. **The member's tier**: a :class:`Modifier` of stage ``TIER`` (Happy+ adds its
   percentage points to every earning line).
4. **Active multiplier offers**: modifiers of stage ``OFFER``, in the order the context
   lists them (offer id order). Each sees the multiplier after the tier and before any
   other offer (``app/receipts/offers.py`` builds them so: offers never compound).
5. **Flat offer bonuses** (:class:`Bonus`: fixed bonus per qualifying receipt, spend X
   get Y, a crossed aggregated threshold): whole points added after rounding, each its
   own breakdown item; they read only the lines that earn (excluded lines never qualify).

A modifier adds percentage points to the line's multiplier (never taking it below 0 %);
the modifiers of one stage all see the multiplier as it was before that stage (two offers
never compound);
the effective multiplier is stored on the receipt line, so a refund re-scores the line with
exactly the arithmetic it was scored with.

**Rounding is done here and only here.** A line's points are an exact fraction; the
receipt's points are the exact sum over its lines, rounded down ONCE to whole points
(rounding each line would lose a fraction of a point on every cheap line). The breakdown
items (base, one per brand/category rule or modifier that changed the points, one per
exclusion) are each rounded down and the leftover whole points go to the largest
remainders, so the items sum to the receipt's points exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from fractions import Fraction
from typing import Any, Protocol

from app.partners.earn_rule_models import ModifierKind
from app.partners.earn_rules import PartnerRules

BASE_PCT = 100


class BreakdownKind(StrEnum):
    BASE = "BASE"
    BRAND = "BRAND"
    CATEGORY = "CATEGORY"
    EXCLUDED = "EXCLUDED"
    TIER = "TIER"
    OFFER = "OFFER"


class ModifierStage(IntEnum):
    """When a modifier applies, after the partner's rules: tiers first, then offers."""

    TIER = 1
    OFFER = 2


class LineToScore(Protocol):
    """What scoring reads of a receipt line (``LineInput`` is one)."""

    @property
    def amount(self) -> int: ...  # minor units

    @property
    def brand(self) -> str | None: ...

    @property
    def category(self) -> str | None: ...

    @property
    def sku(self) -> str: ...


class Modifier(Protocol):
    """A rule applied after the partner's rules: the member's tier, an active offer."""

    @property
    def stage(self) -> ModifierStage: ...

    @property
    def kind(self) -> BreakdownKind: ...  # the breakdown item its points are shown as

    @property
    def rule(self) -> str: ...  # e.g. "tier:happy+", "offer:42"; one breakdown item each

    @property
    def title(self) -> str | None: ...  # shown with the breakdown item (an offer's title)

    def extra_percent(self, line: LineToScore, multiplier_pct: int) -> int:
        """Percentage points added to the line's multiplier so far (0: does not apply)."""
        ...


class Bonus(Protocol):
    """Whole points added to a receipt after rounding (an offer's flat bonus)."""

    @property
    def rule(self) -> str: ...  # "offer:42"

    @property
    def title(self) -> str | None: ...

    def bonus_points(self, earning_lines: Sequence[LineToScore]) -> int:
        """The bonus for these lines (the receipt's lines that earn); 0: does not apply."""
        ...


@dataclass(frozen=True)
class ScoringContext:
    """What besides the partner's rules decides a receipt's points: the member's tier and
    their multiplier offers as ``modifiers`` (applied in :class:`ModifierStage` order, then
    in the order given here), flat offer bonuses as ``bonuses``.
    """

    modifiers: tuple[Modifier, ...] = ()
    bonuses: tuple[Bonus, ...] = ()


NO_MODIFIERS = ScoringContext()


@dataclass(frozen=True)
class Rate:
    """``points`` points for every ``per_amount`` minor units, at 100 %."""

    points: int
    per_amount: int

    def exact(self, amount: int, multiplier_pct: int) -> Fraction:
        return Fraction(amount * self.points * multiplier_pct, self.per_amount * BASE_PCT)


def whole_points(exact: Fraction) -> int:
    """Exact points as whole points: rounded down, always (the programme never rounds up)."""
    return math.floor(exact)


@dataclass(frozen=True)
class PartnerRule:
    multiplier_pct: int  # 0: excluded
    rule: str | None  # "category:tobacco", "brand:mango" or None (base rate only)


def partner_rule(rules: PartnerRules, brand: str | None, category: str | None) -> PartnerRule:
    """Step 2: the partner's multiplier for a line's brand and category (case-insensitive)."""
    found: list[tuple[int, str]] = []
    for kind, value in ((ModifierKind.BRAND, brand), (ModifierKind.CATEGORY, category)):
        if value:
            key = value.strip().lower()
            pct = rules.modifiers.get((kind, key))
            if pct is not None:
                found.append((pct, f"{kind.value}:{key}"))
    excluded = [rule for pct, rule in found if pct == 0]
    if excluded:
        return PartnerRule(0, excluded[0])
    if not found:
        return PartnerRule(BASE_PCT, None)
    pct, rule = max(found)
    return PartnerRule(pct, rule)


@dataclass(frozen=True)
class LinePoints:
    multiplier_pct: int  # effective, after every step; 0: earns nothing
    rule: str | None  # the partner's brand/category rule that applied
    exact: Fraction

    @property
    def points(self) -> int:
        """This line's whole points, for display (the receipt rounds its exact sum once)."""
        return whole_points(self.exact)


@dataclass(frozen=True)
class BreakdownItem:
    kind: BreakdownKind
    rule: str | None
    multiplier_percent: int
    amount: int  # the spend this part applies to (minor units)
    points: int
    title: str | None = None  # an offer's title (offer items only)

    @property
    def offer_id(self) -> int | None:
        """The offer behind an OFFER item (its rule is ``offer:<id>``)."""
        if self.kind != BreakdownKind.OFFER or not (self.rule or "").startswith("offer:"):
            return None
        return int((self.rule or "")[len("offer:") :])

    def to_json(self) -> dict[str, Any]:
        """The stored shape (receipts.breakdown and the stored first answer)."""
        stored: dict[str, Any] = {
            "kind": self.kind.value,
            "rule": self.rule,
            "multiplierPercent": self.multiplier_percent,
            "amount": self.amount,
            "points": self.points,
        }
        if self.title is not None:
            stored["title"] = self.title
        return stored

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> BreakdownItem:
        return cls(
            kind=BreakdownKind(item["kind"]),
            rule=item.get("rule"),
            multiplier_percent=int(item["multiplierPercent"]),
            amount=int(item["amount"]),
            points=int(item["points"]),
            title=item.get("title"),
        )


@dataclass(frozen=True)
class Score:
    lines: tuple[LinePoints, ...]
    exact: Fraction  # the receipt's exact points from its lines
    points: int  # whole points the lines earn: exact rounded down once
    breakdown: tuple[BreakdownItem, ...]  # sums to ``points`` + the bonuses' points
    bonuses: tuple[BreakdownItem, ...] = ()  # flat offer bonuses (also in ``breakdown``)

    @property
    def bonus_points(self) -> int:
        return sum(item.points for item in self.bonuses)

    @property
    def total(self) -> int:
        """Everything the receipt credits: the lines' points and the flat bonuses."""
        return self.points + self.bonus_points


@dataclass
class _Part:
    kind: BreakdownKind
    rule: str | None
    multiplier_pct: int
    amount: int = 0
    exact: Fraction = field(default_factory=Fraction)
    title: str | None = None


def score_receipt(
    rules: PartnerRules,
    lines: Sequence[LineToScore],
    context: ScoringContext = NO_MODIFIERS,
) -> Score:
    """Points for a receipt's lines under the partner's rules and ``context``'s modifiers."""
    rate = Rate(rules.rate_points, rules.rate_per_amount)
    modifiers = sorted(context.modifiers, key=lambda m: m.stage)  # stable within a stage
    parts: dict[str, _Part] = {"base": _Part(BreakdownKind.BASE, None, BASE_PCT)}

    def add(key: str, part: _Part, amount: int, exact: Fraction) -> None:
        found = parts.setdefault(key, part)
        found.amount += amount
        found.exact += exact

    scored: list[LinePoints] = []
    for line in lines:
        chosen = partner_rule(rules, line.brand, line.category)
        if chosen.multiplier_pct == 0:
            part = _Part(BreakdownKind.EXCLUDED, chosen.rule, 0)
            add(f"excluded:{chosen.rule}", part, line.amount, Fraction(0))
            scored.append(LinePoints(0, chosen.rule, Fraction(0)))
            continue
        add("base", parts["base"], line.amount, rate.exact(line.amount, BASE_PCT))
        pct = chosen.multiplier_pct
        if chosen.rule is not None and pct != BASE_PCT:
            kind = (
                BreakdownKind.BRAND if chosen.rule.startswith("brand:") else BreakdownKind.CATEGORY
            )
            part = _Part(kind, chosen.rule, pct)
            add(
                f"modifier:{chosen.rule}",
                part,
                line.amount,
                rate.exact(line.amount, pct - BASE_PCT),
            )
        stage, stage_pct = None, pct
        for modifier in modifiers:
            if modifier.stage != stage:  # one stage's modifiers all see the same multiplier
                stage, stage_pct = modifier.stage, pct
            extra = max(modifier.extra_percent(line, stage_pct), -pct)
            if extra:
                part = _Part(modifier.kind, modifier.rule, extra, title=modifier.title)
                key = f"{modifier.stage.name.lower()}:{modifier.rule}"
                add(key, part, line.amount, rate.exact(line.amount, extra))
                pct += extra
        scored.append(LinePoints(pct, chosen.rule, rate.exact(line.amount, pct)))

    exact = sum((line.exact for line in scored), Fraction(0))
    points = whole_points(exact)
    earning = [line for line, s in zip(lines, scored, strict=True) if s.multiplier_pct > 0]
    bonuses = []
    for bonus in context.bonuses:
        got = max(0, bonus.bonus_points(earning))
        if got:
            spend = sum(line.amount for line in earning)
            bonuses.append(
                BreakdownItem(BreakdownKind.OFFER, bonus.rule, 0, spend, got, bonus.title)
            )
    breakdown = _breakdown(parts, points) + tuple(bonuses)
    return Score(tuple(scored), exact, points, breakdown, tuple(bonuses))


def _breakdown(parts: dict[str, _Part], points: int) -> tuple[BreakdownItem, ...]:
    """Each part rounded down, the leftover whole points to the largest remainders (ties:
    the part listed first), so the items sum to ``points``. The base item is left out when
    every line was excluded."""
    floors = {key: whole_points(part.exact) for key, part in parts.items()}
    leftover = points - sum(floors.values())
    by_remainder = sorted(parts, key=lambda k: parts[k].exact - floors[k], reverse=True)
    for key in by_remainder:
        if leftover <= 0:
            break
        if parts[key].exact - floors[key] > 0:
            floors[key] += 1
            leftover -= 1
    return tuple(
        BreakdownItem(
            part.kind, part.rule, part.multiplier_pct, part.amount, floors[key], part.title
        )
        for key, part in parts.items()
        if not (part.kind == BreakdownKind.BASE and part.amount == 0 and len(parts) > 1)
    )


# --- refunds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RemainingLine:
    amount: int  # minor units not yet refunded
    multiplier_pct: int  # the effective multiplier the line was scored with


def rescore_remaining(rate: Rate, lines: Iterable[RemainingLine]) -> int:
    """Whole points what is left of a receipt earns, with the rate in force when it was
    scored and its lines' stored multipliers (rules changed since do not reach back), rounded
    down once like the receipt itself."""
    return whole_points(
        sum((rate.exact(line.amount, line.multiplier_pct) for line in lines), Fraction(0))
    )


def points_due_back(*, earned: int, remaining: int, taken_back: int) -> int:
    """Points a refund takes back: what the receipt earned, less what is left of it earns,
    less what earlier refunds already took back (collected or not). Never negative, so any
    sequence of refunds takes back at most ``earned``, and all of it once nothing is left."""
    return max(0, earned - remaining - taken_back)
