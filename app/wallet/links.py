"""Signed, expiring link tokens to a card's files (QR image, Apple pass).

The member door hands them out (``me.card.qrPngUrl`` / ``appleWalletUrl``); the HTTP door
that serves the files checks them. The token names the pass serial, never a card number.
"""

from __future__ import annotations

from datetime import datetime

from app.environment import Environment
from wallet_passes.url_tokens import sign_url_token


def sign_link(runtime: Environment, kind: str, serial: str, now: datetime) -> str:
    """A signed, expiring link token for ``kind`` ("qr" or "pkpass") of the pass ``serial``."""
    return sign_url_token(
        runtime.keys.url_token_secret,
        f"{kind}:{serial}",
        runtime.settings.wallet_link_ttl_seconds,
        now,
    )
