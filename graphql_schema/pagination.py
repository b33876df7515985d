"""Relay connections with opaque keyset cursors, and opaque node IDs."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError

from app import i18n
from app.errors import InvalidInput

T = TypeVar("T")
N = TypeVar("N")
K = TypeVar("K")

MAX_PAGE = 100


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


def encode_cursor(*keys: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(keys)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    """The sort keys in ``cursor``; :class:`InvalidInput` (field ``after``) if malformed."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        keys = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, RecursionError) as exc:
        # ValueError covers bad JSON and text that is not ASCII/UTF-8; RecursionError a
        # forged cursor nesting thousands of brackets.
        raise InvalidInput(field="after") from exc
    if not isinstance(keys, list) or not keys:
        raise InvalidInput(field="after")
    return keys


def page_size(first: int | None, default: int = 20) -> int:
    size = default if first is None else first
    if size < 1 or size > MAX_PAGE:
        raise InvalidInput(field="first", maximum=MAX_PAGE)
    return size


def row_id_key(value: Any) -> int:
    """A cursor's row id: an integer a database id column can hold (else ValueError)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ValueError(f"not a row id: {value!r}")
    return value


def page_arguments(
    first: int | None,
    after: str | None,
    cursor_keys: Callable[[list[Any]], K],
    *,
    default: int = 20,
) -> tuple[int, K | None]:
    """The ONE check of a connection's paging arguments: ``(page size, cursor keys)``.

    ``first`` must be 1..MAX_PAGE; ``after`` must be a cursor this connection made:
    ``cursor_keys`` turns its decoded keys into the connection's sort keys and raises
    ValueError, TypeError, IndexError or OverflowError for anything else (a forged cursor).
    Every failure is :class:`InvalidInput` naming ``first`` or ``after``; a resolver turns
    it into a top-level error with :func:`invalid_argument`.
    """
    size = page_size(first, default)
    keys = decode_cursor(after)
    if keys is None:
        return size, None
    try:
        return size, cursor_keys(keys)
    except (ValueError, TypeError, IndexError, OverflowError) as exc:
        raise InvalidInput(field="after") from exc


def invalid_argument(exc: InvalidInput, language: str | None) -> GraphQLError:
    """A bad query argument as a top-level error the client can read (not masked)."""
    return GraphQLError(
        i18n.translate(exc.code.value, language, **exc.params),
        extensions={"code": exc.code.value, "field": exc.field},
    )


def build_connection(
    rows: Sequence[N],
    size: int,
    cursor_of: Callable[[N], str],
    to_node: Callable[[N], T],
) -> Connection[T]:
    """``rows`` fetched with ``limit size + 1``: the extra row tells there is a next page."""
    page = list(rows[:size])
    edges = [Edge(cursor=cursor_of(row), node=to_node(row)) for row in page]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
        ),
    )


def to_global_id(type_name: str, key: str | int) -> strawberry.ID:
    raw = f"{type_name}:{key}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def from_global_id(value: str, type_name: str) -> str:
    try:
        padded = value + "=" * (-len(value) % 4)
        kind, _, key = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(field="id") from exc
    if kind != type_name or not key:
        raise InvalidInput(field="id")
    return key
