"""Schema extensions common to every door: limits, caches, error masking."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from app.log import current_request_id
from app.settings import Settings
from graphql_schema.errors import ServiceUnavailableErrors
from graphql_schema.query_limits import limits_rule
from graphql_schema.schema_visibility import schema_visibility_extensions
from graphql_schema.text_arguments import RefuseUncleanText

log = logging.getLogger("happy.graphql")


def _is_expected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, GraphQLError)


class MaskUnexpectedErrors(SchemaExtension):
    """Log unexpected exceptions with the request id; show the client only that id.

    Syntax, validation, authentication and permission errors (GraphQLError) pass.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [e if _is_expected(e) else self._mask(e) for e in errors]

    def _mask(self, error: GraphQLError) -> GraphQLError:
        request_id = current_request_id()
        log.error(
            "unexpected error in %s",
            ".".join(str(p) for p in error.path or []),
            exc_info=error.original_error,
        )
        return GraphQLError(
            "Unexpected error.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )


def standard_extensions(settings: Settings) -> list[Any]:
    """Depth, alias, cost and token limits, parser/validation caches, masking.

    strawberry builds fresh extension instances per request from these factories. The
    depth, alias and cost limits are one validation rule (linear in the document even with
    fragment fan-out: :mod:`graphql_schema.query_limits`); it is made once here, so every
    request validates with the *same* rule class and the shared validation cache can hit (a
    rule built per request is a new class, and every request would miss the cache).
    """
    limits: list[type[ASTValidationRule]] = [
        limits_rule(
            max_depth=settings.graphql_max_depth,
            max_aliases=settings.graphql_max_aliases,
            max_cost=settings.graphql_max_cost,
        )
    ]
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: AddValidationRules(limits),
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        RefuseUncleanText,
        MaskUnexpectedErrors,
        # After the masking: extensions exit in reverse order, so these see errors first.
        ServiceUnavailableErrors,
        *schema_visibility_extensions(settings),
    ]


class HappySchema(strawberry.Schema):
    """strawberry's Schema without its default error logging.

    strawberry logs every error with a traceback, including a client's expired session or a
    mistyped query. Here unexpected errors are logged once, with the request id, by
    :class:`MaskUnexpectedErrors`; expected ones (authentication, syntax, validation) are the
    client's business and are not logged as errors.
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None
