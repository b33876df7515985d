"""Money across currencies: exchange rates as programme data and the one conversion rule.

Vouchers are valued in EUR; stores take ALL, MKD or EUR. A rate says how many units of a
currency one euro buys from a day on (``happy fx set ALL 100.25 --from 2026-12-01``); the
rate *of a day* is the row with the latest ``valid_from`` on or before that day (the day in
the programme's time zone). A currency with no rate on or before the day has no rate: the
caller refuses with ``EXCHANGE_RATE_MISSING`` (never a guessed conversion).

Rounding: an amount is converted exactly (decimal arithmetic) and rounded once, half up,
to the target currency's minor units (ISO 4217 exponent, 2 for EUR, ALL and MKD):
9.60 EUR at 100.25 ALL/EUR = 962.40 ALL; 4.00 EUR at 61.4953 MKD/EUR = 245.9812 -> 245.98 MKD.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, ExchangeRateMissing, InvalidInput
from app.fx.models import ExchangeRate

BASE_CURRENCY = "EUR"
# ISO 4217 minor-unit exponents where they are not 2 (the region's currencies all have 2).
_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3}
# Rates are stored with 6 decimals; more is refused rather than silently cut.
RATE_PLACES = 6
MAX_RATE = Decimal("1000000")
# The demo's rates (approximate mid-market rates; set real ones with `happy fx set`),
# valid from a day before any demo activity.
DEMO_RATES = {"ALL": Decimal("100.25"), "MKD": Decimal("61.495")}
DEMO_RATES_FROM = date(2024, 1, 1)


def exponent(currency: str) -> int:
    """Decimals of ``currency``'s minor unit."""
    return _EXPONENTS.get(currency.upper(), 2)


def programme_day(now: datetime, timezone: str) -> date:
    """The calendar day of ``now`` in the programme's time zone."""
    return now.astimezone(ZoneInfo(timezone)).date()


def parse_currency(text: str) -> str:
    currency = (text or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidInput(field="currency")
    return currency


def parse_rate(text: str | Decimal) -> Decimal:
    """A positive decimal rate with at most 6 decimals (units of the currency per 1 EUR)."""
    try:
        rate = Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise InvalidInput(ErrorCode.INVALID_RATE, field="rate") from exc
    if not rate.is_finite() or rate <= 0 or rate >= MAX_RATE:
        raise InvalidInput(ErrorCode.INVALID_RATE, field="rate")
    exponent_ = rate.as_tuple().exponent
    assert isinstance(exponent_, int)
    if -exponent_ > RATE_PLACES and rate != rate.quantize(Decimal(1).scaleb(-RATE_PLACES)):
        raise InvalidInput(ErrorCode.INVALID_RATE, field="rate")
    return rate.quantize(Decimal(1).scaleb(-RATE_PLACES))


async def set_rate(
    session: AsyncSession, *, currency: str, rate: str | Decimal, valid_from: date, now: datetime
) -> ExchangeRate:
    """Create or replace the rate of ``currency`` from ``valid_from`` on (operator CLI).

    Redemptions keep the rate they used, so replacing a rate never changes one already made.
    """
    code = parse_currency(currency)
    if code == BASE_CURRENCY:
        raise InvalidInput(ErrorCode.INVALID_RATE, field="currency")
    value = parse_rate(rate)
    row = await session.get(ExchangeRate, (code, valid_from))
    if row is None:
        row = ExchangeRate(currency=code, valid_from=valid_from, rate=value, updated_at=now)
        session.add(row)
    else:
        row.rate = value
        row.updated_at = now
    await session.flush()
    return row


async def list_rates(session: AsyncSession, currency: str | None = None) -> list[ExchangeRate]:
    """Every rate (or one currency's), by currency then newest first."""
    stmt = select(ExchangeRate).order_by(ExchangeRate.currency, ExchangeRate.valid_from.desc())
    if currency is not None:
        stmt = stmt.where(ExchangeRate.currency == parse_currency(currency))
    return list((await session.execute(stmt)).scalars())


async def rate_of_day(session: AsyncSession, currency: str, day: date) -> Decimal:
    """Units of ``currency`` per 1 EUR on ``day`` (1 for EUR, no query); raises
    ``EXCHANGE_RATE_MISSING`` when no rate is valid on that day."""
    code = currency.upper()
    if code == BASE_CURRENCY:
        return Decimal(1)
    rate = (
        await session.execute(
            select(ExchangeRate.rate)
            .where(ExchangeRate.currency == code, ExchangeRate.valid_from <= day)
            .order_by(ExchangeRate.valid_from.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if rate is None:
        raise ExchangeRateMissing(currency=code, day=day.isoformat())
    return Decimal(rate)


async def rates_of_day(
    session: AsyncSession, currencies: set[str], day: date
) -> dict[str, Decimal]:
    """:func:`rate_of_day` for several currencies (one query per non-EUR currency asked)."""
    return {code: await rate_of_day(session, code, day) for code in sorted(currencies)}


def convert(amount: int, from_currency: str, to_currency: str, rates: dict[str, Decimal]) -> int:
    """``amount`` minor units of ``from_currency`` in minor units of ``to_currency``, via
    the per-EUR ``rates`` (EUR is 1), rounded once, half up."""
    source, target = from_currency.upper(), to_currency.upper()
    if source == target:
        return amount
    rate_from = Decimal(1) if source == BASE_CURRENCY else rates[source]
    rate_to = Decimal(1) if target == BASE_CURRENCY else rates[target]
    major = Decimal(amount).scaleb(-exponent(source))
    converted = (major * rate_to / rate_from).scaleb(exponent(target))
    return int(converted.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Converted:
    """A value in EUR and in a store's currency, with the rate used (per EUR)."""

    eur_amount: int
    store_amount: int
    store_currency: str
    rate: Decimal


async def to_store_currency(
    session: AsyncSession, amount: int, currency: str, store_currency: str, day: date
) -> Converted:
    """``amount`` of ``currency`` in EUR and in ``store_currency`` at ``day``'s rates
    (no query when both are EUR)."""
    needed = {c.upper() for c in (currency, store_currency)} - {BASE_CURRENCY}
    rates = await rates_of_day(session, needed, day)
    eur = convert(amount, currency, BASE_CURRENCY, rates)
    store = convert(amount, currency, store_currency, rates)
    rate = Decimal(1) if store_currency.upper() == BASE_CURRENCY else rates[store_currency.upper()]
    return Converted(eur, store, store_currency.upper(), rate)


def format_money(minor_units: int, currency: str) -> str:
    """``960, "EUR"`` -> ``"9.60 EUR"`` (for texts to members and operators)."""
    places = exponent(currency)
    return f"{Decimal(minor_units).scaleb(-places):.{places}f} {currency.upper()}"


async def seed_demo_rates(session: AsyncSession, now: datetime) -> int:
    """The demo's ALL and MKD rates, for currencies that have no rate yet (idempotent)."""
    added = 0
    for currency, rate in DEMO_RATES.items():
        if not await list_rates(session, currency):
            await set_rate(
                session, currency=currency, rate=rate, valid_from=DEMO_RATES_FROM, now=now
            )
            added += 1
    return added
