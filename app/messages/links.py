"""Signed links in messages: the way out of marketing (withdraws one channel's consent)
and the open pixel of email. A link names a member by public id, never by phone."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from app.keys import Keys


@dataclass(frozen=True)
class Links:
    keys: Keys
    base_url: str

    def _sign(self, payload: str) -> str:
        mac = hmac.new(self.keys.derive("message-links"), payload.encode(), hashlib.sha256)
        raw = payload.encode() + b"." + mac.digest()[:12]
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _open(self, token: str, prefix: str) -> list[str] | None:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            return None
        # The MAC is 12 raw bytes and may itself contain b".": split at its fixed offset.
        if len(raw) < 14 or raw[-13:-12] != b".":
            return None
        payload_bytes, mac = raw[:-13], raw[-12:]
        payload = payload_bytes.decode(errors="replace")
        expected = hmac.new(self.keys.derive("message-links"), payload_bytes, hashlib.sha256)
        if not hmac.compare_digest(expected.digest()[:12], mac):
            return None
        parts = payload.split(":")
        return parts[1:] if parts[0] == prefix else None

    def unsubscribe_url(self, member_public_id: str, channel: str) -> str:
        return f"{self.base_url}/m/u/{self._sign(f'u:{member_public_id}:{channel}')}"

    def open_url(self, message_id: int) -> str:
        return f"{self.base_url}/m/o/{self._sign(f'o:{message_id}')}"

    def read_unsubscribe(self, token: str) -> tuple[str, str] | None:
        """(member public id, channel) of a genuine way-out link, else None."""
        parts = self._open(token, "u")
        return (parts[0], parts[1]) if parts and len(parts) == 2 else None

    def read_open(self, token: str) -> int | None:
        parts = self._open(token, "o")
        return int(parts[0]) if parts and len(parts) == 1 and parts[0].isdigit() else None
