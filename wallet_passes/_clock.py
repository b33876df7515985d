"""Time helpers shared by the signed-token modules."""

from __future__ import annotations

from datetime import datetime


def unix_seconds(now: datetime) -> int:
    """Whole seconds since the epoch of a timezone-aware ``now`` (naive times are refused)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (UTC)")
    return int(now.timestamp())
