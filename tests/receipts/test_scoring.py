"""The one scoring function: worked examples and its invariants under Hypothesis."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.partners.earn_rule_models import ModifierKind
from app.partners.earn_rules import PartnerRules
from app.receipts.scoring import (
    BreakdownItem,
    BreakdownKind,
    ModifierStage,
    Rate,
    RemainingLine,
    ScoringContext,
    points_due_back,
    rescore_remaining,
    score_receipt,
)

# Fixed examples and no example database: the same cases on every run and in CI.
CI = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Line:
    amount: int
    brand: str | None = None
    category: str | None = None
    sku: str = "SKU"


@dataclass(frozen=True)
class PercentModifier:
    """A stand-in for a tier or offer: adds ``percent`` (or the multiplier so far)."""

    stage: ModifierStage
    rule: str
    percent: int | None  # None: double the multiplier so far
    kind: BreakdownKind = BreakdownKind.BRAND
    title: str | None = None

    def extra_percent(self, line: Line, multiplier_pct: int) -> int:
        return multiplier_pct if self.percent is None else self.percent


def rules(
    points: int = 1,
    per_amount: int = 100,
    modifiers: dict[tuple[ModifierKind, str], int] | None = None,
) -> PartnerRules:
    return PartnerRules(
        partner_id=1,
        currency="EUR",
        rate_points=points,
        rate_per_amount=per_amount,
        modifiers=modifiers or {},
    )


SPAR = rules(
    1,
    10000,
    {(ModifierKind.BRAND, "spar"): 200, (ModifierKind.CATEGORY, "tobacco"): 0},
)


# --- worked examples -------------------------------------------------------------------


def test_a_spar_receipt_rounds_once_and_the_breakdown_shares_the_points() -> None:
    # milk 450.00 ALL x2 (own brand) -> 9; bread 230.00 -> 2.3; cigarettes excluded.
    lines = [Line(45000, "Spar", "dairy"), Line(23000, None, "bakery"), Line(50000, "X", "Tobacco")]
    score = score_receipt(SPAR, lines)
    assert score.exact == Fraction(113, 10)
    assert score.points == 11
    assert [line.multiplier_pct for line in score.lines] == [200, 100, 0]
    assert [line.points for line in score.lines] == [9, 2, 0]
    assert score.breakdown == (
        BreakdownItem(BreakdownKind.BASE, None, 100, 68000, 7),
        BreakdownItem(BreakdownKind.BRAND, "brand:spar", 200, 45000, 4),
        BreakdownItem(BreakdownKind.EXCLUDED, "category:tobacco", 0, 50000, 0),
    )


def test_rounding_each_line_would_lose_points_the_receipt_keeps() -> None:
    score = score_receipt(rules(1, 100), [Line(150)] * 4)  # 4 x 1.5 points
    assert [line.points for line in score.lines] == [1, 1, 1, 1]
    assert score.points == 6


def test_a_multiplier_under_100_is_a_negative_part_of_the_breakdown() -> None:
    sale = rules(1, 100, {(ModifierKind.CATEGORY, "sale"): 50})
    score = score_receipt(sale, [Line(1000, None, "Sale")])
    assert score.points == 5
    assert [(i.kind, i.points) for i in score.breakdown] == [
        (BreakdownKind.BASE, 10),
        (BreakdownKind.CATEGORY, -5),
    ]


def test_a_receipt_with_every_line_excluded_shows_only_the_exclusions() -> None:
    score = score_receipt(SPAR, [Line(5000, None, "tobacco")])
    assert score.points == 0
    assert score.breakdown == (
        BreakdownItem(BreakdownKind.EXCLUDED, "category:tobacco", 0, 5000, 0),
    )


def test_modifiers_apply_after_the_partner_rules_tiers_before_offers() -> None:
    # Given in the wrong order: the tier (+50) still applies before the offer (x2 so far).
    offer = PercentModifier(ModifierStage.OFFER, "offer:double", None)
    tier = PercentModifier(ModifierStage.TIER, "tier:plus", 50)
    context = ScoringContext(modifiers=(offer, tier))
    score = score_receipt(SPAR, [Line(10000, "spar"), Line(10000, None, "tobacco")], context)
    # 200 (brand) + 50 (tier) = 250, doubled by the offer: 500 (offer first would give 450).
    assert [line.multiplier_pct for line in score.lines] == [500, 0]
    assert score.points == 5
    assert [(i.rule, i.multiplier_percent, i.points) for i in score.breakdown] == [
        (None, 100, 1),
        ("brand:spar", 200, 1),
        ("tier:plus", 50, 1),  # 0.5 and 2.5: equal remainders, the earlier part gets the point
        ("offer:double", 250, 2),
        ("category:tobacco", 0, 0),
    ]


def test_a_modifier_never_takes_a_line_below_zero() -> None:
    malus = PercentModifier(ModifierStage.OFFER, "offer:malus", -500)
    score = score_receipt(rules(1, 100), [Line(1000)], ScoringContext(modifiers=(malus,)))
    assert score.lines[0].multiplier_pct == 0
    assert score.points == 0
    assert sum(i.points for i in score.breakdown) == 0


def test_a_refund_never_takes_back_a_negative_amount() -> None:
    # Only inconsistent stored data could get here (more taken back than scoring allows).
    assert points_due_back(earned=10, remaining=8, taken_back=5) == 0
    assert points_due_back(earned=10, remaining=3, taken_back=5) == 2


def test_breakdown_items_keep_the_stored_json_shape() -> None:
    stored = {
        "kind": "BRAND",
        "rule": "brand:spar",
        "multiplierPercent": 200,
        "amount": 45000,
        "points": 4,
    }
    item = BreakdownItem.from_json(stored)
    assert item == BreakdownItem(BreakdownKind.BRAND, "brand:spar", 200, 45000, 4)
    assert item.to_json() == stored


# --- invariants ------------------------------------------------------------------------

NAMES = st.sampled_from(["mango", "spar", "toys", "tobacco", "Gift Cards"])
KIND_AND_NAME = st.tuples(st.sampled_from(list(ModifierKind)), NAMES)
PERCENT = st.one_of(st.just(0), st.integers(min_value=1, max_value=500))


@st.composite
def partner_rules(draw: st.DrawFn) -> PartnerRules:
    modifiers = draw(st.dictionaries(KIND_AND_NAME, PERCENT, max_size=6))
    return rules(
        draw(st.integers(min_value=0, max_value=20)),
        draw(st.integers(min_value=1, max_value=100_000)),
        {(kind, name.lower()): pct for (kind, name), pct in modifiers.items()},
    )


LINES = st.lists(
    st.builds(
        Line,
        amount=st.integers(min_value=0, max_value=10**9),
        brand=st.one_of(st.none(), NAMES, NAMES.map(str.upper)),
        category=st.one_of(st.none(), NAMES, NAMES.map(lambda n: f" {n} ")),
    ),
    min_size=1,
    max_size=25,
)

MODIFIERS = st.lists(
    st.builds(
        PercentModifier,
        stage=st.sampled_from(list(ModifierStage)),
        rule=st.sampled_from(["tier:plus", "offer:1", "offer:2"]),
        percent=st.one_of(st.none(), st.integers(min_value=-300, max_value=300)),
    ),
    max_size=3,
).map(lambda found: ScoringContext(modifiers=tuple(found)))


def _is_excluded(rules: PartnerRules, line: Line) -> bool:
    keys = [(ModifierKind.BRAND, line.brand), (ModifierKind.CATEGORY, line.category)]
    return any(
        value and rules.modifiers.get((kind, value.strip().lower())) == 0 for kind, value in keys
    )


@CI
@given(partner_rules(), LINES, MODIFIERS)
def test_points_are_never_negative_and_rounded_down_once(
    rules: PartnerRules, lines: list[Line], context: ScoringContext
) -> None:
    score = score_receipt(rules, lines, context)
    assert all(line.exact >= 0 and line.points >= 0 for line in score.lines)
    assert score.exact == sum((line.exact for line in score.lines), Fraction(0))
    assert score.points == math.floor(score.exact) >= 0
    assert score.points > score.exact - 1


@CI
@given(partner_rules(), LINES, MODIFIERS)
def test_the_breakdown_sums_to_the_points(
    rules: PartnerRules, lines: list[Line], context: ScoringContext
) -> None:
    score = score_receipt(rules, lines, context)
    assert sum(item.points for item in score.breakdown) == score.points
    spend = sum(line.amount for line in lines)
    counted = [BreakdownKind.BASE, BreakdownKind.EXCLUDED]
    assert sum(i.amount for i in score.breakdown if i.kind in counted) == spend


@CI
@given(partner_rules(), LINES, MODIFIERS)
def test_excluded_lines_earn_nothing(
    rules: PartnerRules, lines: list[Line], context: ScoringContext
) -> None:
    score = score_receipt(rules, lines, context)
    for line, scored in zip(lines, score.lines, strict=True):
        if _is_excluded(rules, line):
            assert scored.multiplier_pct == 0 and scored.exact == 0
    for item in score.breakdown:
        if item.kind == BreakdownKind.EXCLUDED:
            assert item.points == 0


@CI
@given(partner_rules(), LINES, MODIFIERS, st.data())
def test_partial_refunds_never_reverse_more_than_earned_and_all_of_it_at_the_end(
    rules: PartnerRules, lines: list[Line], context: ScoringContext, data: st.DataObject
) -> None:
    score = score_receipt(rules, lines, context)
    rate = Rate(rules.rate_points, rules.rate_per_amount)
    left = [line.amount for line in lines]

    def refund(line_no: int, amount: int, taken: int) -> int:
        left[line_no] -= amount
        remaining = rescore_remaining(
            rate,
            (RemainingLine(a, s.multiplier_pct) for a, s in zip(left, score.lines, strict=True)),
        )
        due = points_due_back(earned=score.points, remaining=remaining, taken_back=taken)
        assert due >= 0
        return taken + due

    # Scoring the untouched receipt again gives back exactly what it earned.
    assert refund(0, 0, 0) == 0
    taken = 0
    steps = data.draw(st.integers(min_value=0, max_value=8), label="refunds")
    for _ in range(steps):
        candidates = [n for n, amount in enumerate(left) if amount > 0]
        if not candidates:
            break
        line_no = data.draw(st.sampled_from(candidates), label="line")
        amount = data.draw(st.integers(min_value=1, max_value=left[line_no]), label="amount")
        taken = refund(line_no, amount, taken)
        assert 0 <= taken <= score.points
    for line_no, amount in enumerate(list(left)):
        taken = refund(line_no, amount, taken)
        assert taken <= score.points
    assert taken == score.points
