"""Texts shown to members, in their language (sq default, en).

One catalogue for error messages and SMS texts so every door says the same thing.
Languages without a translation fall back to the programme default, then English.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

LANGUAGES = ("sq", "en", "sr", "mk", "ru")
DEFAULT_LANGUAGE = "sq"

_CATALOGUE: dict[str, dict[str, str]] = {
    "en": {
        "INVALID_INPUT": "Some of the information is not valid.",
        "INVALID_PHONE": "This is not a valid mobile phone number.",
        "PHONE_REGION_NOT_ALLOWED": "Mobile numbers from this country cannot join the programme.",
        "CODE_INVALID": "The code is not correct. Tries left: {attempts_left}.",
        "CODE_EXPIRED": "The code has expired. Ask for a new one.",
        "TOO_MANY_ATTEMPTS": "Too many wrong tries. Ask for a new code.",
        "RATE_LIMITED": "Too many requests. Try again in {retry_after} seconds.",
        "UNAUTHENTICATED": "Your session has ended. Please sign in again.",
        "FORBIDDEN": "You are not allowed to do this.",
        "NOT_FOUND": "Not found.",
        "ACCOUNT_DELETED": "This account has been deleted.",
        "INSUFFICIENT_POINTS": "You do not have enough points.",
        "CONFLICT": "This conflicts with an earlier request.",
        "sms.otp": "{code} is your Happy code. It is valid for {minutes} minutes. "
        "Do not share it with anyone.",
        "ledger.welcome_bonus": "Welcome bonus",
        "CARD_QR_EXPIRED": "This card code has expired. Ask the member to show the app again.",
        "CARD_QR_INVALID": "This is not a valid Happy card.",
    },
    "sq": {
        "INVALID_INPUT": "Disa nga të dhënat nuk janë të vlefshme.",
        "INVALID_PHONE": "Ky nuk është numër celulari i vlefshëm.",
        "PHONE_REGION_NOT_ALLOWED": "Numrat celularë nga ky shtet nuk mund të anëtarësohen.",
        "CODE_INVALID": "Kodi nuk është i saktë. Përpjekje të mbetura: {attempts_left}.",
        "CODE_EXPIRED": "Kodi ka skaduar. Kërkoni një kod të ri.",
        "TOO_MANY_ATTEMPTS": "Shumë përpjekje të gabuara. Kërkoni një kod të ri.",
        "RATE_LIMITED": "Shumë kërkesa. Provoni përsëri pas {retry_after} sekondash.",
        "UNAUTHENTICATED": "Seanca juaj ka përfunduar. Ju lutem hyni përsëri.",
        "FORBIDDEN": "Nuk keni leje për këtë veprim.",
        "NOT_FOUND": "Nuk u gjet.",
        "ACCOUNT_DELETED": "Kjo llogari është fshirë.",
        "INSUFFICIENT_POINTS": "Nuk keni pikë të mjaftueshme.",
        "CONFLICT": "Kjo bie ndesh me një kërkesë të mëparshme.",
        "sms.otp": "{code} është kodi juaj Happy. Vlen për {minutes} minuta. "
        "Mos ia tregoni askujt.",
        "ledger.welcome_bonus": "Bonus mirëseardhjeje",
        "CARD_QR_EXPIRED": "Ky kod karte ka skaduar. "
        "Kërkojini anëtarit ta hapë sërish aplikacionin.",
        "CARD_QR_INVALID": "Kjo nuk është kartë e vlefshme Happy.",
    },
}


def normalise_language(value: str | None) -> str:
    """Map an Accept-Language header or stored preference to a supported language."""
    if not value:
        return DEFAULT_LANGUAGE
    for part in value.split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE


def translate(key: str, language: str | None = None, **params: Any) -> str:
    """The text for ``key`` in ``language`` with ``params`` filled in."""
    # No preference: the programme language. A language without a catalogue (sr, mk,
    # ru for now): English, which those members read more often than Albanian.
    catalogue = _CATALOGUE.get(language or DEFAULT_LANGUAGE, _CATALOGUE["en"])
    template = catalogue.get(key) or _CATALOGUE["en"].get(key) or key
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


class Language(StrEnum):
    SQ = "sq"
    EN = "en"
    SR = "sr"
    MK = "mk"
    RU = "ru"
