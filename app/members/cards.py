"""Card numbers: programme prefix, random body, Luhn check digit."""

from __future__ import annotations

import secrets

CARD_LENGTH = 16


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body + digit`` pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_valid_card_number(number: str) -> bool:
    return (
        len(number) == CARD_LENGTH
        and number.isdigit()
        and luhn_check_digit(number[:-1]) == number[-1]
    )


def new_card_number(prefix: str) -> str:
    """A random (not sequential, so not enumerable) card number with its check digit."""
    body_length = CARD_LENGTH - 1 - len(prefix)
    body = prefix + "".join(str(secrets.randbelow(10)) for _ in range(body_length))
    return body + luhn_check_digit(body)


def mask_card_number(number: str) -> str:
    """All but the last four digits hidden: ``7001000000001234`` -> ``************1234``."""
    return "*" * max(0, len(number) - 4) + number[-4:]
