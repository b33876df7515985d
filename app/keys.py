"""Server secrets: the JWT signing key and the pepper for hashing codes and numbers.

In production both come from settings (``HAPPY_JWT_SECRET``, ``HAPPY_HASH_SECRET``) and
the process refuses to start without them. In development and tests a random key is
generated once and kept under ``var/keys/`` so sessions survive a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from app.settings import VAR_DIR, Settings


@dataclass(frozen=True)
class Keys:
    jwt_secret: bytes
    hash_secret: bytes

    def hash_phone(self, phone_e164: str) -> str:
        """Keyed hash of a phone number: stable, not reversible without the pepper."""
        return hmac.new(self.hash_secret, phone_e164.encode(), hashlib.sha256).hexdigest()

    def hash_code(self, scope: str, code: str) -> str:
        """Keyed hash of a short secret (one-time code) bound to ``scope``."""
        return hmac.new(self.hash_secret, f"{scope}:{code}".encode(), hashlib.sha256).hexdigest()

    def derive(self, purpose: str) -> bytes:
        """A separate 32-byte key for one purpose (card QR tokens, signed file links...),
        derived from the pepper so operators manage one secret, and a leak of one derived
        key does not reveal the others."""
        return hmac.new(
            self.hash_secret, f"happy-derive:{purpose}".encode(), hashlib.sha256
        ).digest()

    @property
    def card_token_secret(self) -> bytes:
        """Signs the rotating card QR tokens (``wallet_passes.dynamic_qr``)."""
        return self.derive("card-token")

    @property
    def url_token_secret(self) -> bytes:
        """Signs short-lived links to files (QR images, passes)."""
        return self.derive("url-token")


def _dev_key(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def load_keys(settings: Settings, key_dir: Path | None = None) -> Keys:
    """Keys from settings, or development keys under ``var/keys`` (never in production)."""
    directory = key_dir or VAR_DIR / "keys"
    jwt_secret = settings.jwt_secret.encode() or _dev_key(directory / "jwt.key")
    hash_secret = settings.hash_secret.encode() or _dev_key(directory / "hash.key")
    return Keys(jwt_secret=jwt_secret, hash_secret=hash_secret)
