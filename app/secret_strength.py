"""How guessable a configured secret is: production refuses weak ones at start.

Length alone is no measure: forty copies of one letter are forty characters and no secret.
A secret is judged by what a generator of random text would almost never produce: too few
characters, too little Shannon information in the characters it uses, a repeated block, a
run of neighbouring characters ("abcdef..."), or a placeholder word. Secrets made as the
docs say (``secrets.token_urlsafe(48)``, ``openssl rand -hex 32``) pass every check by a
wide margin; the thresholds leave room for 32 random hex characters (128 bits). Also refused:
a block repeated with small changes, runs along a keyboard row, text zlib compresses well,
and words that name the value instead of hiding it ("password", "secret", "production").
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections import Counter

MIN_LENGTH = 32
# Shannon bits of the characters' own distribution times the length. 32 random hex
# characters estimate at ~115-122 bits (none below 90 in 200,000 tries); "abcd" * 10 at 80.
MIN_ESTIMATED_BITS = 90
MIN_DISTINCT_CHARACTERS = 8
PLACEHOLDER_WORDS = (
    "changeme",
    "change-me",
    "change_me",
    "replaceme",
    "replace-me",
    "placeholder",
    "example",
    "xxxxxxxx",
    # Words that name what the value is, not a secret (review of issue 16).
    "password",
    "passw0rd",
    "secret",
    "production",
    "letmein",
)
# Keyboard rows: "qwertyuiop..." is as guessable as "abcdef...".
_KEYBOARD_ROWS = ("1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./")
_KEY_POSITION = {
    key: (row, column) for row, keys in enumerate(_KEYBOARD_ROWS) for column, key in enumerate(keys)
}
# A block repeated with small changes ("Tr0ub4dor&3" x 3 + "X"): share of characters equal
# to the one a period before. Random text: 1/alphabet (1/16 for hex).
MAX_PERIODIC_SHARE = 0.5
# zlib finds repeated blocks anywhere: compressed size (without its fixed overhead) as a
# share of the length. Random hex and base64 stay above ~0.9.
MIN_COMPRESSED_SHARE = 0.6
HOW_TO_MAKE_ONE = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


def estimated_bits(value: str) -> float:
    """Shannon entropy of the characters' frequencies, times the length (an upper bound)."""
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    per_character = -sum(c / n * math.log2(c / n) for c in counts.values())
    return per_character * n


def _shortest_period(value: str) -> int:
    """The length of the shortest block whose repetition makes ``value`` (len if none)."""
    n = len(value)
    for period in range(1, n // 2 + 1):
        if all(value[i] == value[i - period] for i in range(period, n)):
            return period
    return n


def _neighbour_share(value: str) -> float:
    """Share of adjacent pairs whose characters are equal or next to each other."""
    if len(value) < 2:
        return 1.0
    close = sum(1 for a, b in itertools.pairwise(value) if abs(ord(a) - ord(b)) <= 1)
    return close / (len(value) - 1)


def _periodic_share(value: str) -> float:
    """The largest share of characters equal to the one ``p`` before, over periods ``p`` of
    at most a third of the length (at least two thirds of the characters compared)."""
    n = len(value)
    best = 0.0
    for period in range(1, n // 3 + 1):
        same = sum(1 for i in range(period, n) if value[i] == value[i - period])
        best = max(best, same / (n - period))
    return best


def _keyboard_share(value: str) -> float:
    """Share of adjacent pairs that are the same or neighbouring keys on one keyboard row."""
    lowered = value.lower()
    if len(lowered) < 2:
        return 1.0
    close = 0
    for a, b in itertools.pairwise(lowered):
        pa, pb = _KEY_POSITION.get(a), _KEY_POSITION.get(b)
        if pa is not None and pb is not None and pa[0] == pb[0] and abs(pa[1] - pb[1]) <= 1:
            close += 1
    return close / (len(lowered) - 1)


def _compressed_share(value: str) -> float:
    data = value.encode("utf-8")
    overhead = len(zlib.compress(b"", 9))
    return (len(zlib.compress(data, 9)) - overhead) / len(data)


def secret_weakness(value: str) -> str | None:
    """Why ``value`` is not a secret fit for production, or None when it is fine."""
    if len(value) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters are required"
    lowered = value.lower()
    for word in PLACEHOLDER_WORDS:
        if word in lowered:
            return f"it contains the placeholder word {word!r}"
    distinct = len(set(value))
    if distinct < MIN_DISTINCT_CHARACTERS:
        return f"it uses only {distinct} different character{'' if distinct == 1 else 's'}"
    bits = estimated_bits(value)
    if bits < MIN_ESTIMATED_BITS:
        return f"it carries about {bits:.0f} bits of entropy, {MIN_ESTIMATED_BITS} are required"
    if _shortest_period(value) < len(value):
        return "it is one block repeated"
    if _neighbour_share(value) > 0.6:
        return "it is mostly a run of neighbouring characters"
    if _periodic_share(value) > MAX_PERIODIC_SHARE:
        return "it is mostly one block repeated"
    if _keyboard_share(value) > 0.6:
        return "it is mostly a run of neighbouring keys"
    if _compressed_share(value) < MIN_COMPRESSED_SHARE:
        return "it compresses well: it repeats itself"
    return None
