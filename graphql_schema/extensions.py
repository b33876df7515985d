"""Schema extensions common to every door: limits, caches, error masking."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from graphql.validation.rules import overlapping_fields_can_be_merged
from graphql.validation.validate import ValidationAbortedError
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
from graphql_schema.query_limits import (
    OVERLAP_COMPLEXITY_BUDGET,
    QUERY_TOO_COMPLEX,
    field_count_problem,
    limits_rule,
)
from graphql_schema.schema_visibility import schema_visibility_extensions
from graphql_schema.text_arguments import RefuseUncleanText

log = logging.getLogger("happy.graphql")

# Read by graphql-core when OverlappingFieldsCanBeMergedRule starts on a document.
overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = OVERLAP_COMPLEXITY_BUDGET


class BoundedValidation(ValidationCache):
    """strawberry's cached validation, preceded by the field-count check.

    A document with too many field nodes is refused before any validation rule walks it
    (:func:`graphql_schema.query_limits.field_count_problem`); graphql-core's "Validation
    aborted." (its own work meter) gets the QUERY_TOO_COMPLEX code.
    """

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        problem = field_count_problem(document) if document is not None else None
        if problem is not None:
            context.pre_execution_errors = [
                GraphQLError(problem, extensions={"code": QUERY_TOO_COMPLEX})
            ]
            yield
            return
        yield from super().on_validate()
        errors = context.pre_execution_errors
        if errors:
            context.pre_execution_errors = [_with_code(e) for e in errors]


def _with_code(error: GraphQLError) -> GraphQLError:
    if isinstance(error, ValidationAbortedError) or (
        not error.extensions and error.message.endswith("Validation aborted.")
    ):
        return GraphQLError(
            "The query is too complex to validate: ask for fewer fields.",
            extensions={"code": QUERY_TOO_COMPLEX},
        )
    return error


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
        lambda: BoundedValidation(maxsize=512),
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
