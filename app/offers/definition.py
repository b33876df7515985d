"""An offer file (JSON or YAML) read and checked: every mistake names the field.

```yaml
title: {sq: "Pikë dyfish te Mango", en: "Double points at Mango"}
description: {sq: "...", en: "..."}
image: https://example.com/mango.png          # optional
funder: FGA                                   # a partner code, or "programme"
validFrom: 2025-06-01T00:00:00+02:00
validUntil: 2025-07-01T00:00:00+02:00
where: {partners: [FGA], stores: [FGA-MANGO-TIR]}   # optional: every partner, every store
segment: {kind: all}    # tier (tier: happy_plus) | new_members (days) | birthday_month
                        # | city (city: Tirana) | dormant (days)
mechanic: {kind: multiplier, percent: 200, on: {brands: [MANGO]}}
          # fixed_bonus (points, minSpend+currency optional) | spend_get (spend, currency,
          # points) | aggregate_spend (spend, currency, points); `on`: brands, categories
          # or skus (one of them; omitted: every line)
activation: automatic   # or required
usesPerMember: 1        # optional (null: unlimited)
budget: 10000           # optional: the most points the offer gives in total
```
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml

from app.errors import InvalidInput
from app.i18n import LANGUAGES
from app.offers.models import Mechanic, Scope, Segment

MAX_POINTS = 1_000_000
MAX_MULTIPLIER_PCT = 1000
MAX_AMOUNT = 10**12


class OfferFileError(InvalidInput):
    """A bad offer file; ``field`` is the path of the bad value, ``reason`` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field=field, reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class OfferDefinition:
    titles: dict[str, str]
    descriptions: dict[str, str]
    image_url: str | None
    funder: str | None  # partner code; None: the programme
    starts_at: datetime
    ends_at: datetime
    partner_codes: list[str] | None
    store_codes: list[str] | None
    segment: Segment
    segment_value: str | None
    mechanic: Mechanic
    scope: Scope
    scope_values: list[str]
    points: int
    multiplier_pct: int
    min_spend: int
    currency: str | None
    activation_required: bool
    uses_per_member: int | None
    budget: int | None


def load_text(text: str) -> dict[str, Any]:
    """The file's content as a mapping (JSON, or YAML which JSON is a subset of)."""
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise OfferFileError("(file)", f"not valid JSON or YAML{where}") from exc
    if not isinstance(data, dict):
        raise OfferFileError("(file)", "must be a mapping of fields (title, mechanic, ...)")
    return data


def _get(data: dict[str, Any], key: str, path: str, *, required: bool = True) -> Any:
    if key not in data or data[key] is None:
        if required:
            raise OfferFileError(f"{path}{key}", "is required")
        return None
    return data[key]


def _int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise OfferFileError(field, "must be a whole number")
    if not low <= value <= high:
        raise OfferFileError(field, f"must be between {low} and {high}")
    return value


def _texts(value: Any, field: str, maximum: int, *, required: bool) -> dict[str, str]:
    if value is None and not required:
        return {}
    if isinstance(value, str):
        value = {"sq": value, "en": value}
    if not isinstance(value, dict) or not value:
        raise OfferFileError(field, "must map languages (sq, en, ...) to text")
    found = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            raise OfferFileError(
                f"{field}.{lang}", f"unknown language (use {', '.join(LANGUAGES)})"
            )
        if not isinstance(text, str) or not text.strip() or len(text.strip()) > maximum:
            raise OfferFileError(f"{field}.{lang}", f"must be text of 1-{maximum} characters")
        if "\x00" in text:
            raise OfferFileError(f"{field}.{lang}", "must not contain NUL characters")
        found[lang] = text.strip()
    return found


def _time(value: Any, field: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise OfferFileError(
                field, "must be an ISO 8601 time, e.g. 2025-06-01T00:00:00+02:00"
            ) from exc
    else:
        raise OfferFileError(field, "must be an ISO 8601 time")
    if moment.tzinfo is None:
        raise OfferFileError(field, "needs a time zone offset, e.g. +02:00")
    return moment


def _codes(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > 200:
        raise OfferFileError(field, "must be a list of 1-200 codes")
    codes = []
    for i, code in enumerate(value):
        if not isinstance(code, str) or not code.strip() or len(code.strip()) > 64:
            raise OfferFileError(f"{field}.{i}", "must be a code")
        codes.append(code.strip())
    return codes


def _currency(value: Any, field: str) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
        raise OfferFileError(field, "must be an ISO 4217 code such as ALL or EUR")
    return value.upper()


def parse_offer(data: dict[str, Any]) -> OfferDefinition:
    """Check an offer file's fields; :class:`OfferFileError` names the first bad one."""
    known = {
        "title", "description", "image", "funder", "validFrom", "validUntil", "where",
        "segment", "mechanic", "activation", "usesPerMember", "budget",
    }  # fmt: skip
    for key in data:
        if key not in known:
            raise OfferFileError(str(key), f"unknown field (known: {', '.join(sorted(known))})")
    titles = _texts(_get(data, "title", ""), "title", 120, required=True)
    descriptions = _texts(data.get("description"), "description", 1000, required=False)
    image = data.get("image")
    if image is not None and (
        not isinstance(image, str) or not image.startswith("https://") or len(image) > 500
    ):
        raise OfferFileError("image", "must be an https:// address")
    funder_raw = _get(data, "funder", "")
    if not isinstance(funder_raw, str) or not funder_raw.strip():
        raise OfferFileError("funder", 'must be a partner code or "programme"')
    funder = None if funder_raw.strip().lower() == "programme" else funder_raw.strip()
    starts = _time(_get(data, "validFrom", ""), "validFrom")
    ends = _time(_get(data, "validUntil", ""), "validUntil")
    if ends <= starts:
        raise OfferFileError("validUntil", "must be after validFrom")

    where = data.get("where") or {}
    if not isinstance(where, dict):
        raise OfferFileError("where", "must be a mapping with partners and/or stores")
    for key in where:
        if key not in ("partners", "stores"):
            raise OfferFileError(f"where.{key}", "unknown field (known: partners, stores)")
    partner_codes = _codes(where["partners"], "where.partners") if where.get("partners") else None
    store_codes = _codes(where["stores"], "where.stores") if where.get("stores") else None
    if funder is not None and partner_codes is None and store_codes is None:
        partner_codes = [funder]  # a partner's offer applies at its own stores by default

    segment_raw = _get(data, "segment", "", required=False) or {"kind": "all"}
    if not isinstance(segment_raw, dict):
        raise OfferFileError("segment", "must be a mapping with kind")
    try:
        segment = Segment(str(segment_raw.get("kind", "")))
    except ValueError as exc:
        kinds = ", ".join(s.value for s in Segment)
        raise OfferFileError("segment.kind", f"must be one of {kinds}") from exc
    segment_value: str | None = None
    if segment == Segment.TIER:
        tier = segment_raw.get("tier")
        if not isinstance(tier, str) or not tier.strip():
            raise OfferFileError("segment.tier", "must be a tier code (see `happy tier list`)")
        segment_value = tier.strip().lower()
    elif segment in (Segment.NEW_MEMBERS, Segment.DORMANT):
        segment_value = str(_int(segment_raw.get("days"), "segment.days", 1, 3650))
    elif segment == Segment.CITY:
        city = segment_raw.get("city")
        if not isinstance(city, str) or not city.strip() or len(city) > 80:
            raise OfferFileError("segment.city", "must be a city name")
        segment_value = city.strip()

    mechanic_raw = _get(data, "mechanic", "")
    if not isinstance(mechanic_raw, dict):
        raise OfferFileError("mechanic", "must be a mapping with kind")
    try:
        mechanic = Mechanic(str(mechanic_raw.get("kind", "")))
    except ValueError as exc:
        kinds = ", ".join(m.value for m in Mechanic)
        raise OfferFileError("mechanic.kind", f"must be one of {kinds}") from exc
    points = multiplier = min_spend = 0
    currency: str | None = None
    if mechanic == Mechanic.MULTIPLIER:
        multiplier = _int(mechanic_raw.get("percent"), "mechanic.percent", 101, MAX_MULTIPLIER_PCT)
    else:
        points = _int(mechanic_raw.get("points"), "mechanic.points", 1, MAX_POINTS)
    if mechanic in (Mechanic.SPEND_GET, Mechanic.AGGREGATE_SPEND):
        min_spend = _int(mechanic_raw.get("spend"), "mechanic.spend", 1, MAX_AMOUNT)
        currency = _currency(mechanic_raw.get("currency"), "mechanic.currency")
    elif mechanic == Mechanic.FIXED_BONUS and mechanic_raw.get("minSpend") is not None:
        min_spend = _int(mechanic_raw.get("minSpend"), "mechanic.minSpend", 0, MAX_AMOUNT)
        currency = _currency(mechanic_raw.get("currency"), "mechanic.currency")
    scope, scope_values = Scope.ALL, []
    on = mechanic_raw.get("on")
    if on is not None:
        if not isinstance(on, dict) or len(on) != 1:
            raise OfferFileError("mechanic.on", "must name one of brands, categories or skus")
        ((key, values),) = on.items()
        scopes = {"brands": Scope.BRAND, "categories": Scope.CATEGORY, "skus": Scope.SKU}
        if key not in scopes:
            raise OfferFileError(f"mechanic.on.{key}", "must be brands, categories or skus")
        scope = scopes[key]
        scope_values = [v.lower() for v in _codes(values, f"mechanic.on.{key}")]
    for key in mechanic_raw:
        if key not in ("kind", "points", "percent", "spend", "minSpend", "currency", "on"):
            raise OfferFileError(f"mechanic.{key}", "unknown field")

    activation = data.get("activation", "automatic")
    if activation not in ("automatic", "required"):
        raise OfferFileError("activation", 'must be "automatic" or "required"')
    default_uses = None if mechanic == Mechanic.MULTIPLIER else 1
    uses_raw = data.get("usesPerMember", default_uses)
    uses = None if uses_raw is None else _int(uses_raw, "usesPerMember", 1, 10_000)
    if mechanic == Mechanic.AGGREGATE_SPEND:
        uses = 1  # Y once per member
    budget_raw = data.get("budget")
    budget = None if budget_raw is None else _int(budget_raw, "budget", 1, 10**12)
    return OfferDefinition(
        titles=titles,
        descriptions=descriptions,
        image_url=image,
        funder=funder,
        starts_at=starts,
        ends_at=ends,
        partner_codes=partner_codes,
        store_codes=store_codes,
        segment=segment,
        segment_value=segment_value,
        mechanic=mechanic,
        scope=scope,
        scope_values=scope_values,
        points=points,
        multiplier_pct=multiplier,
        min_spend=min_spend,
        currency=currency,
        activation_required=activation == "required",
        uses_per_member=uses,
        budget=budget,
    )
