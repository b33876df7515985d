"""Signed, expiring tokens for file URLs (QR images, passes), so they can't be enumerated.

Format: ``base64url(expires_at as 8-byte big-endian || subject utf-8) "." base64url(mac)``
where ``mac = HMAC-SHA256(secret, "happy-url-v1\\0" || payload)``. The subject is carried
in the token (it is not secret, only unforgeable); the URL needs nothing else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime

from wallet_passes._clock import unix_seconds

_DOMAIN = b"happy-url-v1\x00"
_MIN_SECRET = 16
_MAX_TOKEN = 2048


class UrlTokenError(ValueError):
    """A URL token can't be accepted."""


class UrlTokenInvalid(UrlTokenError):
    """Malformed or tampered token, or signed with another secret."""


class UrlTokenExpired(UrlTokenError):
    """A genuine token past its expiry time."""


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.urlsafe_b64decode(padded.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise UrlTokenInvalid("token is not base64url") from exc


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, _DOMAIN + payload, hashlib.sha256).digest()


def _check_secret(secret: bytes) -> None:
    if len(secret) < _MIN_SECRET:
        raise ValueError(f"secret must be at least {_MIN_SECRET} bytes")


def sign_url_token(secret: bytes, subject: str, ttl_seconds: int, now: datetime) -> str:
    """A token naming ``subject`` (for example a storage key) valid for ``ttl_seconds``."""
    _check_secret(secret)
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    if not subject:
        raise ValueError("subject must not be empty")
    expires_at = unix_seconds(now) + ttl_seconds
    payload = expires_at.to_bytes(8, "big") + subject.encode("utf-8")
    return f"{_b64encode(payload)}.{_b64encode(_mac(secret, payload))}"


def verify_url_token(secret: bytes, token: str, now: datetime) -> str:
    """The subject of a genuine, unexpired ``token``.

    Raises ``UrlTokenInvalid`` for anything malformed or tampered with and ``UrlTokenExpired``
    for a genuine token used after its expiry. The MAC is checked (in constant time) before
    the expiry, so an attacker learns nothing from the error kind.
    """
    _check_secret(secret)
    if len(token) > _MAX_TOKEN or token.count(".") != 1:
        raise UrlTokenInvalid("malformed token")
    payload_text, mac_text = token.split(".")
    payload = _b64decode(payload_text)
    mac = _b64decode(mac_text)
    # Re-encoding must give the same text: refuses non-canonical base64 (extra bits, padding).
    if _b64encode(payload) != payload_text or _b64encode(mac) != mac_text:
        raise UrlTokenInvalid("non-canonical token")
    if not hmac.compare_digest(mac, _mac(secret, payload)) or len(payload) <= 8:
        raise UrlTokenInvalid("bad signature")
    expires_at = int.from_bytes(payload[:8], "big")
    if unix_seconds(now) >= expires_at:
        raise UrlTokenExpired("token expired")
    try:
        return payload[8:].decode("utf-8")
    except UnicodeDecodeError as exc:  # only reachable with the real secret
        raise UrlTokenInvalid("subject is not UTF-8") from exc
