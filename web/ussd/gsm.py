"""What fits on a USSD screen, counted as the gateway counts it.

A USSD message carries at most 160 octets. In the GSM 03.38 default alphabet (7 bits a
character, packed) that is 182 characters, where the extension characters (``{ } [ ] ~ ^
\\ | €`` and form feed) take two; one character outside the alphabet switches the whole
message to UCS-2, 2 octets a character: 80 characters.

Albanian has two letters outside the alphabet: ``ë``/``Ë`` and lowercase ``ç`` (``Ç`` is in
it). Rather than lose more than half of every screen to UCS-2, the USSD door writes them
the way Albanians write them on phones without them: ``ë`` -> ``e``, ``Ë`` -> ``E``,
``ç`` -> ``c`` (:func:`to_gsm`). Other letters with diacritics (partner names, a Serbian
``š``) lose the diacritic; anything still outside the alphabet becomes ``?``. Screens are
therefore always GSM 7-bit and 182 characters is the limit; :func:`units` still counts
UCS-2 right for text that was not converted.
"""

from __future__ import annotations

import unicodedata

MAX_GSM_SEPTETS = 182
MAX_UCS2_CHARACTERS = 80

# GSM 03.38 default alphabet (basic character set), without the escape.
BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = set("\f^{}\\[~]|€")

# The Albanian rule first (documented above), then what NFKD cannot take apart.
_EXPLICIT = {"ë": "e", "Ë": "E", "ç": "c", "\t": " ", "\u00a0": " ", "đ": "d", "Đ": "D"}
# Typographic quotes and dashes (written as escapes: they look like ASCII ones).
_EXPLICIT.update({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_EXPLICIT.update({"\u2013": "-", "\u2014": "-", "\u2026": "..."})


def _letter(ch: str) -> str:
    if ch in BASIC or ch in EXTENSION:
        return ch
    if ch in _EXPLICIT:
        return _EXPLICIT[ch]
    decomposed = unicodedata.normalize("NFKD", ch)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    if base and all(c in BASIC for c in base):
        return base
    return "?"


def to_gsm(text: str) -> str:
    """``text`` in the GSM 03.38 alphabet (the transliteration rule above)."""
    return "".join(_letter(ch) for ch in text)


def is_gsm(text: str) -> bool:
    return all(ch in BASIC or ch in EXTENSION for ch in text)


def units(text: str) -> tuple[int, int]:
    """(length as the gateway counts it, the limit for that encoding)."""
    if is_gsm(text):
        return sum(2 if ch in EXTENSION else 1 for ch in text), MAX_GSM_SEPTETS
    # UCS-2: characters beyond the Basic Multilingual Plane take two units (surrogates).
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text), MAX_UCS2_CHARACTERS


def fits(text: str) -> bool:
    used, limit = units(text)
    return used <= limit


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with ``.`` marking a cut."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    return text[: max(1, width - 1)].rstrip() + "."
