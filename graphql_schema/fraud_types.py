"""GraphQL types for fraud limits: soft-limit warnings and the hard-limit refusal."""

from __future__ import annotations

from typing import Any

import strawberry

from app import i18n
from app.errors import LimitExceeded
from app.fraud.models import LimitKind
from app.fraud.service import LimitWarning
from graphql_schema.errors import DomainErrorHandler, Error, ErrorCodeEnum

LimitKindEnum = strawberry.enum(LimitKind, name="LimitKind")


@strawberry.type(
    name="Warning",
    description="The request went through, but over a soft programme limit: show `message` "
    "to the cashier. The programme's operator has been alerted.",
)
class LimitWarningType:
    code: ErrorCodeEnum  # type: ignore[valid-type]
    message: str
    limit_kind: LimitKindEnum  # type: ignore[valid-type]
    limit: int
    value: int = strawberry.field(description="What this request brought the count to.")

    @classmethod
    def from_warning(cls, warning: LimitWarning, language: str | None) -> LimitWarningType:
        return cls(
            code=warning.code,
            message=i18n.limit_message(
                warning.code.value,
                language,
                warning.kind,
                scope=warning.scope,
                limit=warning.limit,
                value=warning.value,
            ),
            limit_kind=LimitKind(warning.kind),
            limit=warning.limit,
            value=warning.value,
        )


def warning_list(
    warnings: tuple[LimitWarning, ...], language: str | None
) -> list[LimitWarningType]:
    return [LimitWarningType.from_warning(w, language) for w in warnings]


@strawberry.type(
    description="Refused: over a hard programme limit (LIMIT_EXCEEDED); nothing was "
    "recorded. `attempted` is what the request would have brought the count to."
)
class LimitExceededError(Error):
    limit_kind: LimitKindEnum  # type: ignore[valid-type]
    limit: int
    attempted: int


class LimitExceededHandler(DomainErrorHandler):
    def __init__(self) -> None:
        super().__init__(LimitExceeded, LimitExceededError)

    def handle(self, exception: Any, *, field: Any, info: Any) -> Any:
        assert isinstance(exception, LimitExceeded)
        return LimitExceededError(
            code=exception.code,
            message=i18n.limit_message(
                exception.code.value,
                info.context.language,
                exception.kind,
                scope=exception.scope,
                limit=exception.limit,
                attempted=exception.attempted,
            ),
            field=None,
            limit_kind=LimitKind(exception.kind),
            limit=exception.limit,
            attempted=exception.attempted,
        )


FRAUD_HANDLERS = [LimitExceededHandler()]
