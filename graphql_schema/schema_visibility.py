"""How much of the schema a production door shows: no introspection, no "Did you mean".

In production the schema is not published to whoever asks: introspection (``__schema``,
``__type``) is refused on every door, and validation messages lose their "Did you mean ...?"
hints, which otherwise spell out field, argument and enum names one typo at a time. Partner
developers get the SDL from ``docs/`` (and ``happy schema export``); an operator who needs
introspection against production (a schema registry, a fuzzer) sets
``HAPPY_GRAPHQL_INTROSPECTION_TOKEN`` and sends it in ``X-Introspection-Token``. Development
and tests keep both, they help.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, GraphQLError, get_named_type, is_introspection_type
from graphql.validation import ValidationRule
from strawberry.extensions import SchemaExtension

from app.errors import ErrorCode
from app.settings import Settings

INTROSPECTION_TOKEN_HEADER = "x-introspection-token"  # noqa: S105 (a header name)
# graphql-core's suggestion: " Did you mean 'x'?", " Did you mean 'x' or 'y'?",
# " Did you mean the enum value 'X'?"; last in validation messages, but in the middle of
# variable coercion ones ("... Did you mean 'firstName'? Found: {...}."): removed wherever
# it is (GraphQL names never contain "?").
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class NoIntrospectionRule(ValidationRule):
    """graphql-core's NoSchemaIntrospectionCustomRule, once per document, with a code."""

    reported = False

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if self.reported:
            return
        field_type = get_named_type(self.context.get_type())
        if field_type is not None and is_introspection_type(field_type):
            self.reported = True
            self.report_error(
                GraphQLError(
                    "Introspection is disabled on this server.",
                    node,
                    extensions={"code": ErrorCode.FORBIDDEN.value},
                )
            )


def without_suggestion(message: str) -> str:
    """``message`` without graphql-core's "Did you mean ...?" hints."""
    return _SUGGESTION.sub("", message)


class HideSchema(SchemaExtension):
    """Production: refuse introspection (unless the request carries the operator's token)
    and strip suggestions from every error message."""

    def __init__(self, introspection_token: str = "") -> None:
        self.introspection_token = introspection_token

    def _may_introspect(self) -> bool:
        if not self.introspection_token:
            return False
        request = getattr(self.execution_context.context, "request", None)
        offered = request.headers.get(INTROSPECTION_TOKEN_HEADER, "") if request else ""
        return hmac.compare_digest(offered.encode(), self.introspection_token.encode())

    def on_operation(self) -> Iterator[None]:
        # One constant rule class: the validation cache (keyed by the rules) keeps hitting.
        if not self._may_introspect():
            self.execution_context.validation_rules = (
                *self.execution_context.validation_rules,
                NoIntrospectionRule,
            )
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [_strip_suggestion(e) for e in errors]


def _strip_suggestion(error: GraphQLError) -> GraphQLError:
    message = without_suggestion(error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=error.extensions,
    )


def schema_visibility_extensions(settings: Settings) -> list[Any]:
    """Nothing in development and tests; :class:`HideSchema` in production."""
    if not settings.is_production:
        return []
    token = settings.graphql_introspection_token
    return [lambda: HideSchema(token)]
