"""Text every store can keep: no NUL characters, no lone surrogates.

PostgreSQL refuses a NUL byte in ``text`` and a lone surrogate (``"\\ud800"`` in JSON) has
no UTF-8 form, so either would fail deep in the database with an internal error. Services
check client text with :func:`require_clean_text` before any SQL, and the GraphQL doors
check every string argument the same way (:mod:`graphql_schema.text_arguments`).
"""

from __future__ import annotations

from app.errors import InvalidInput


def is_clean_text(value: str) -> bool:
    """True unless ``value`` holds a NUL character or a lone surrogate."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def require_clean_text(value: str, field: str) -> str:
    """``value`` itself, or :class:`InvalidInput` naming ``field``."""
    if not is_clean_text(value):
        raise InvalidInput(field=field, reason="text holds a NUL character or a lone surrogate")
    return value
