"""Every string argument of every door checked once, before any resolver runs.

A NUL character or a lone surrogate in any argument (a literal in the document or a
variable) is refused with INVALID_INPUT naming the argument, so no resolver, service or
SQL statement ever sees it (:mod:`app.text` says why). A list in the variables longer
than ``MAX_LIST_ITEMS`` (a receipt's most lines, the longest list any operation takes) is
refused the same way before graphql-core coerces it: coercing a 4 MB ``submitReceipt`` of
45,000 lines cost seconds of CPU only to be refused by the receipt's own check. Linear in
the document and the variables; services that parse text themselves (the batch import's
JSON lines) check with :func:`app.text.require_clean_text`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    BREAK,
    ArgumentNode,
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    ObjectFieldNode,
    StringValueNode,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

from app import i18n
from app.errors import ErrorCode
from app.receipts.input import MAX_LINES
from app.text import is_clean_text

MAX_LIST_ITEMS = MAX_LINES


def overlong_list(variables: dict[str, Any] | None) -> str | None:
    """The path (``input.lines``) of the first list in ``variables`` longer than
    ``MAX_LIST_ITEMS`` (the walk does not enter such a list)."""
    stack: list[tuple[str, Any]] = [(name, value) for name, value in (variables or {}).items()]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{path}.{key}", item) for key, item in value.items())
        elif isinstance(value, list):
            if len(value) > MAX_LIST_ITEMS:
                return path
            stack.extend((f"{path}.{index}", item) for index, item in enumerate(value))
    return None


def unclean_variable(variables: dict[str, Any] | None) -> str | None:
    """The path (``input.lines.0.name``) of the first unclean string in ``variables``."""
    stack: list[tuple[str, Any]] = [(name, value) for name, value in (variables or {}).items()]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if not is_clean_text(value):
                return path
        elif isinstance(value, dict):
            stack.extend((f"{path}.{key}", item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}.{index}", item) for index, item in enumerate(value))
    return None


class _LiteralFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: str | None = None

    def enter_string_value(
        self, node: StringValueNode, _key: Any, parent: Any, _path: Any, ancestors: Any
    ) -> Any:
        if is_clean_text(node.value):
            return None
        around = [*ancestors, parent]  # graphql-core's ancestors leave out the parent
        names = [a.name.value for a in around if isinstance(a, ArgumentNode | ObjectFieldNode)]
        self.found = ".".join(names) or "query"
        return BREAK


def unclean_literal(document: DocumentNode | None) -> str | None:
    """The argument (``input.receiptId``) of the first unclean string literal."""
    if document is None:
        return None
    finder = _LiteralFinder()
    visit(document, finder)
    return finder.found


# What unclean_literal found in each recent query text: the literals are part of the text,
# so a client sending the same query again (nearly every request) skips the walk. Bounded
# like the parser cache; emptied whole when full.
_LITERALS_OF_QUERY: dict[str, str | None] = {}
_LITERALS_CACHE_SIZE = 512


def unclean_literal_of_query(query: str | None, document: DocumentNode | None) -> str | None:
    """:func:`unclean_literal` of ``document``, the parsed ``query``, remembered by text."""
    if query is None or document is None:
        return unclean_literal(document)
    try:
        return _LITERALS_OF_QUERY[query]
    except KeyError:
        pass
    found = unclean_literal(document)
    if len(_LITERALS_OF_QUERY) >= _LITERALS_CACHE_SIZE:
        _LITERALS_OF_QUERY.clear()
    _LITERALS_OF_QUERY[query] = found
    return found


class RefuseUncleanText(SchemaExtension):
    """INVALID_INPUT (top-level, with ``extensions.field``) instead of executing."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        extensions: dict[str, Any] = {}
        field = overlong_list(context.variables)
        if field is not None:
            extensions["maximum"] = MAX_LIST_ITEMS
        else:
            field = unclean_variable(context.variables) or unclean_literal_of_query(
                context.query, context.graphql_document
            )
        if field is not None:
            language = getattr(context.context, "language", None)
            code = ErrorCode.INVALID_INPUT.value
            context.result = ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        i18n.translate(code, language),
                        extensions={"code": code, "field": field, **extensions},
                    )
                ],
            )
        yield
