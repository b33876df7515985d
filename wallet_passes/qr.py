"""Card QR codes as PNG and SVG.

Error correction is level M (about 15 % of the symbol may be damaged): the card number is
short, so M keeps the symbol at version 1-2 with large modules, which phone cameras and
1D/2D POS imagers read fastest from a phone screen, while still surviving glare, a scratched
printed card or a cracked screen. Higher levels (Q, H) only pay off for logos printed over the
code. ``boost_error`` is off so every card gets the same, documented level.

The 4-module quiet zone required by ISO/IEC 18004 is always kept.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Literal

import segno

from wallet_passes.url_tokens import (
    UrlTokenError,
    UrlTokenExpired,
    UrlTokenInvalid,
    sign_url_token,
    verify_url_token,
)

__all__ = [
    "ERROR_CORRECTION",
    "QUIET_ZONE",
    "UrlTokenError",
    "UrlTokenExpired",
    "UrlTokenInvalid",
    "make_qr",
    "qr_png",
    "qr_svg",
    "sign_url_token",
    "verify_url_token",
]

ERROR_CORRECTION = "M"
QUIET_ZONE = 4
MAX_DATA_LENGTH = 512

_Kind = Literal["png", "svg"]


def make_qr(data: str) -> segno.QRCode:
    """The QR symbol for ``data``: level M, no Micro QR, no error-level boost."""
    if not data:
        raise ValueError("QR data must not be empty")
    if len(data) > MAX_DATA_LENGTH:
        raise ValueError(f"QR data longer than {MAX_DATA_LENGTH} characters")
    return segno.make(data, error=ERROR_CORRECTION, boost_error=False, micro=False)


@lru_cache(maxsize=4096)
def _render(data: str, kind: _Kind, scale: int) -> bytes:
    buffer = io.BytesIO()
    qr = make_qr(data)
    if kind == "png":
        qr.save(buffer, kind="png", scale=scale, border=QUIET_ZONE)
    else:
        # No XML declaration (so the text can be inlined in HTML), but with the SVG
        # namespace so the same text is also a valid stand-alone .svg file.
        qr.save(
            buffer,
            kind="svg",
            scale=scale,
            border=QUIET_ZONE,
            xmldecl=False,
            svgns=True,
            nl=False,
            svgclass="happy-qr",
            lineclass=None,
        )
    return buffer.getvalue()


def _checked_scale(scale: int) -> int:
    if not 1 <= scale <= 64:
        raise ValueError("scale must be between 1 and 64 pixels per module")
    return scale


def qr_png(data: str, *, scale: int = 8) -> bytes:
    """A black-on-white PNG of the QR code for ``data``; ``scale`` pixels per module (cached)."""
    return _render(data, "png", _checked_scale(scale))


def qr_svg(data: str, *, scale: int = 8) -> str:
    """SVG text of the QR code for ``data`` without an XML declaration (cached)."""
    return _render(data, "svg", _checked_scale(scale)).decode("utf-8")


def cache_clear() -> None:
    """Forget cached images (tests and benchmarks)."""
    _render.cache_clear()
