"""Codes people read and type: no ambiguous characters (no 0/O, 1/I/L, no lower case)."""

from __future__ import annotations

import math
import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 symbols, about 4.95 bits each
PICKUP_CODE_LENGTH = 8  # about 39.6 bits; guesses are limited per till key and kiosk


def new_code(length: int) -> str:
    """``length`` symbols from :data:`ALPHABET`, drawn with :mod:`secrets`."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def bits(length: int) -> float:
    return length * math.log2(len(ALPHABET))


def normalise(typed: str) -> str:
    """What a person typed, as stored: upper case, without spaces and dashes."""
    return re.sub(r"[\s-]", "", typed or "").upper()


def new_pickup_code() -> str:
    return new_code(PICKUP_CODE_LENGTH)
