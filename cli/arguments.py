"""Value types for ``happy`` options: a wrong value is a usage error naming the option."""

from __future__ import annotations

import argparse

# The largest count an option takes (points, bonus, vouchers, months): what a 32-bit
# database integer holds; past it the database would fail with an overflow.
MAX_INT = 2**31 - 1


def _integer(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value > MAX_INT:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_INT}, not {text}")
    return value


def non_negative_int(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def positive_int(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def port(text: str) -> int:
    value = _integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a TCP port (0-65535), not {value}")
    return value


def currency(text: str) -> str:
    code = text.strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise argparse.ArgumentTypeError(f"{text!r} is not a 3-letter currency code (e.g. EUR)")
    return code
