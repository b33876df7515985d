"""Rotating card tokens for the in-app QR code.

A screenshot of the member's card QR should stop working after a minute, so the app shows a
short-lived signed token instead of the bare card number. Printed plastic cards keep the bare
card number; scanners accept both (``resolve_scanned_card``).

Format (only QR *alphanumeric-mode* characters, so the symbol stays small)::

    H1.<card number>.<issued at, base36>.<lifetime seconds, base36>.<MAC, 16 base32 chars>

The MAC is HMAC-SHA256 over a domain tag, the card number, issue time and lifetime, truncated
to 80 bits: ample for a token that lives 60 seconds and can only be checked online.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime

from wallet_passes._clock import unix_seconds

PREFIX = "H1"
DEFAULT_TTL_SECONDS = 60
MAX_TTL_SECONDS = 3600
CLOCK_LEEWAY_SECONDS = 5
_MAC_BYTES = 10
_DOMAIN = b"happy-card-token-v1\x00"
_CARD_NUMBER = re.compile(r"[0-9]{6,32}")
_BASE36 = re.compile(r"[0-9A-Z]{1,13}")
_MAC_TEXT = re.compile(r"[A-Z2-7]{16}")


class CardTokenError(ValueError):
    """A scanned card token can't be accepted."""


class CardTokenInvalid(CardTokenError):
    """Not a card number nor a genuine token (malformed, tampered, other secret)."""


class CardTokenExpired(CardTokenError):
    """A genuine token shown after its lifetime (for example a screenshot)."""


class CardTokenNotYetValid(CardTokenInvalid):
    """A genuine token checked at a moment before it was issued (beyond the clock leeway)."""


def _base36(value: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if value == 0:
        return "0"
    out = []
    while value:
        value, rest = divmod(value, 36)
        out.append(digits[rest])
    return "".join(reversed(out))


def _mac(secret: bytes, card_number: str, issued: int, ttl: int) -> str:
    message = _DOMAIN + f"{card_number}|{issued}|{ttl}".encode("ascii")
    digest = hmac.new(secret, message, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.b32encode(digest).decode("ascii")


def _check_secret(secret: bytes) -> None:
    if len(secret) < 16:
        raise ValueError("secret must be at least 16 bytes")


def is_card_number(text: str) -> bool:
    """Whether ``text`` has the shape of a static card number (6 to 32 digits)."""
    return _CARD_NUMBER.fullmatch(text) is not None


def issue_card_token(
    secret: bytes, card_number: str, now: datetime, ttl: int = DEFAULT_TTL_SECONDS
) -> str:
    """A signed token for ``card_number`` valid for ``ttl`` seconds from ``now``."""
    _check_secret(secret)
    if not is_card_number(card_number):
        raise ValueError("card number must be 6 to 32 digits")
    if not 1 <= ttl <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl must be between 1 and {MAX_TTL_SECONDS} seconds")
    issued = unix_seconds(now)
    mac = _mac(secret, card_number, issued, ttl)
    return f"{PREFIX}.{card_number}.{_base36(issued)}.{_base36(ttl)}.{mac}"


def read_card_token(secret: bytes, token: str, now: datetime) -> str:
    """The card number in a genuine, current ``token``.

    Raises ``CardTokenInvalid`` (malformed, tampered, issued in the future) or
    ``CardTokenExpired`` (genuine but older than its lifetime).
    """
    _check_secret(secret)
    parts = token.split(".")
    if len(parts) != 5 or parts[0] != PREFIX:
        raise CardTokenInvalid("not a card token")
    _, card_number, issued_text, ttl_text, mac = parts
    if (
        not is_card_number(card_number)
        or not _BASE36.fullmatch(issued_text)
        or not _BASE36.fullmatch(ttl_text)
        or not _MAC_TEXT.fullmatch(mac)
        or issued_text != _base36(int(issued_text, 36))  # canonical: no leading zeros
        or ttl_text != _base36(int(ttl_text, 36))
    ):
        raise CardTokenInvalid("malformed card token")
    issued = int(issued_text, 36)
    ttl = int(ttl_text, 36)
    if not hmac.compare_digest(mac, _mac(secret, card_number, issued, ttl)):
        raise CardTokenInvalid("bad signature")
    if not 1 <= ttl <= MAX_TTL_SECONDS:
        raise CardTokenInvalid("lifetime out of range")
    current = unix_seconds(now)
    if issued > current + CLOCK_LEEWAY_SECONDS:
        raise CardTokenNotYetValid("token issued in the future")
    if current >= issued + ttl:
        raise CardTokenExpired("card token expired")
    return card_number


def resolve_scanned_card(secret: bytes, scanned: str, now: datetime) -> str:
    """The card number behind a scanned QR: a printed static card number or a rotating token."""
    text = scanned.strip()
    if is_card_number(text):
        return text
    if text.startswith(PREFIX + "."):
        return read_card_token(secret, text, now)
    raise CardTokenInvalid("scanned text is neither a card number nor a card token")
