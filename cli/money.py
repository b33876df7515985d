"""Money as an operator reads it: major units with the currency ("4.00 EUR").

Amounts are stored as integer minor units; the number of decimals is the currency's
ISO 4217 minor-unit exponent (ALL, MKD, EUR and the other currencies of the region have 2).
"""

from __future__ import annotations

from decimal import Decimal

# ISO 4217 minor-unit exponents where they are not 2.
_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "HUF": 2, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3}
DEFAULT_EXPONENT = 2


def exponent(currency: str) -> int:
    """Decimals of ``currency`` (2 unless ISO 4217 says otherwise)."""
    return _EXPONENTS.get(currency.upper(), DEFAULT_EXPONENT)


def format_money(minor_units: int, currency: str) -> str:
    """``400, "EUR"`` -> ``"4.00 EUR"``."""
    places = exponent(currency)
    value = Decimal(minor_units).scaleb(-places)
    return f"{value:.{places}f} {currency.upper()}"
