"""Voucher codes: 13 random symbols (> 64 bits) and one check symbol.

The alphabet has 31 symbols without the look-alikes 0/O, 1/I/L: codes are read aloud
and typed at tills. The check symbol is a weighted sum modulo 31 (a prime, so every
single wrong symbol and every swap of two neighbours is caught before a database look-up).
Codes are shown in groups of four (``ABCD-EFGH-JKMN-PQ``); input is read ignoring case,
spaces and dashes.
"""

from __future__ import annotations

import math
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RANDOM_SYMBOLS = 13
ENTROPY_BITS = RANDOM_SYMBOLS * math.log2(len(ALPHABET))  # 64.4
_INDEX = {symbol: index for index, symbol in enumerate(ALPHABET)}


def check_symbol(body: str) -> str:
    total = sum((position + 1) * _INDEX[symbol] for position, symbol in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_SYMBOLS))
    return body + check_symbol(body)


def normalise(text: str) -> str | None:
    """The canonical code in ``text``, or None if it cannot be a valid code."""
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != RANDOM_SYMBOLS + 1 or any(symbol not in _INDEX for symbol in code):
        return None
    if check_symbol(code[:-1]) != code[-1]:
        return None
    return code


def display(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def masked(code: str) -> str:
    """What a till may see of a code it has not been shown: the last four symbols
    (``****-****-****-MNPQ``), enough to tell a member's vouchers apart, useless to redeem."""
    shown = "*" * max(0, len(code) - 4) + code[-4:]
    return display(shown)
