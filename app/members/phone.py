"""Mobile numbers: parsed, checked and normalised to E.164."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from app.errors import ErrorCode, InvalidInput

_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalise_phone(raw: str, *, default_region: str, allowed_regions: tuple[str, ...]) -> str:
    """``raw`` as E.164 (``+355691234567``) or :class:`InvalidInput` with a phone code."""
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise InvalidInput(ErrorCode.INVALID_PHONE, field="phone")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, default_region)
    except NumberParseException as exc:
        raise InvalidInput(ErrorCode.INVALID_PHONE, field="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(ErrorCode.INVALID_PHONE, field="phone")
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidInput(ErrorCode.INVALID_PHONE, field="phone")
    region = phonenumbers.region_code_for_number(number)
    if region not in allowed_regions:
        raise InvalidInput(ErrorCode.PHONE_REGION_NOT_ALLOWED, field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """``+355691234567`` -> ``+35569*****67`` for logs and screens."""
    if len(e164) < 8:
        return "***"
    return e164[:6] + "*" * (len(e164) - 8) + e164[-2:]
