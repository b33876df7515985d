"""Typed error results shared by every schema, and the handlers that produce them.

Expected failures are data: each mutation returns a union of its success type and some
of these types, all implementing ``Error``. Domain exceptions raised by services are
mapped to them by strawberry's ``ExceptionHandler`` (only where the field's union lists
that type). Authentication and permission failures are top-level errors with
``extensions.code``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema import ExceptionHandler

from app import i18n
from app.errors import (
    CodeRejected,
    Conflict,
    DomainError,
    ErrorCode,
    InsufficientPoints,
    InvalidInput,
    MemberNotIdentified,
    NotFound,
    OfferRejected,
    RateLimited,
    SessionRejected,
    VoucherRejected,
)
from app.members.plastic_cards import CardRejected
from app.support.blocks import MemberBlocked

ErrorCodeEnum = strawberry.enum(ErrorCode, name="ErrorCode")


@strawberry.interface(description="An expected failure the client can act on.")
class Error:
    code: ErrorCodeEnum  # type: ignore[valid-type]
    message: str
    field: str | None = None


# --- the request itself ------------------------------------------------------------------


@strawberry.type(description="The input was not acceptable; `field` names the culprit.")
class InputError(Error):
    pass


@strawberry.type(description="The request conflicts with an earlier one (e.g. a reused id).")
class ConflictError(Error):
    pass


# --- signing in ---------------------------------------------------------------------------


@strawberry.type(description="A one-time code was wrong, expired or has no tries left.")
class CodeError(Error):
    attempts_left: int


@strawberry.type(description="Too many requests; retry after the given number of seconds.")
class RateLimitedError(Error):
    retry_after_seconds: int


@strawberry.type(description="The refresh token or session is no longer valid: sign in again.")
class SessionError(Error):
    pass


# --- who and what ------------------------------------------------------------------------


@strawberry.type(description="The thing asked for does not exist or is not yours.")
class NotFoundError(Error):
    pass


@strawberry.type(description="The card, card token or phone does not identify an active member.")
class MemberNotIdentifiedError(Error):
    pass


# --- points and vouchers ----------------------------------------------------------------


@strawberry.type(description="The member does not have enough points.")
class InsufficientPointsError(Error):
    points_needed: int


@strawberry.type(description="The voucher cannot be used: unknown, used, expired, not here.")
class VoucherError(Error):
    pass


@strawberry.type(description="The offer cannot be activated: not for you, ended, already active.")
class OfferError(Error):
    pass


# --- the operator's toolbox (issue 14, toolbox) -------------------------------------------


@strawberry.type(
    description="Support blocked this member: points can be neither earned nor spent "
    "(MEMBER_BLOCKED). Nothing was written."
)
class MemberBlockedError(Error):
    pass


@strawberry.type(
    description="The plastic card cannot be linked: CARD_NOT_FOUND (unknown number), "
    "CARD_ALREADY_LINKED or CARD_CLOSED."
)
class CardError(Error):
    pass


def _message(exc: DomainError, info: Any) -> str:
    return i18n.translate(exc.code.value, info.context.language, **exc.params)


class DomainErrorHandler(ExceptionHandler):  # type: ignore[type-arg]
    """Turns one family of domain exceptions into one GraphQL error type."""

    def __init__(
        self,
        exception_type: type[DomainError],
        error_type: type,
        extra: Callable[[Any], dict[str, Any]] = lambda _exc: {},
    ) -> None:
        self.exception_type = exception_type
        self.error_type = error_type
        self._extra = extra

    def handle(self, exception: DomainError, *, field: Any, info: Any) -> Any:
        return self.error_type(
            code=exception.code,
            message=_message(exception, info),
            field=exception.field,
            **self._extra(exception),
        )


EXCEPTION_HANDLERS = [
    DomainErrorHandler(InvalidInput, InputError),
    DomainErrorHandler(CodeRejected, CodeError, lambda exc: {"attempts_left": exc.attempts_left}),
    DomainErrorHandler(
        RateLimited, RateLimitedError, lambda exc: {"retry_after_seconds": exc.retry_after}
    ),
    DomainErrorHandler(SessionRejected, SessionError),
    DomainErrorHandler(NotFound, NotFoundError),
    DomainErrorHandler(MemberNotIdentified, MemberNotIdentifiedError),
    DomainErrorHandler(
        InsufficientPoints,
        InsufficientPointsError,
        lambda exc: {"points_needed": int(exc.params.get("needed", 0))},
    ),
    DomainErrorHandler(Conflict, ConflictError),
    DomainErrorHandler(VoucherRejected, VoucherError),
    DomainErrorHandler(OfferRejected, OfferError),
    DomainErrorHandler(MemberBlocked, MemberBlockedError),
    DomainErrorHandler(CardRejected, CardError),
]


class PublicError(GraphQLError):
    """A top-level error shown to the client as is, with ``extensions.code``."""

    def __init__(self, code: ErrorCode, language: str | None, **params: Any) -> None:
        super().__init__(
            i18n.translate(code.value, language, **params), extensions={"code": code.value}
        )


def unauthenticated(language: str | None) -> PublicError:
    return PublicError(ErrorCode.UNAUTHENTICATED, language)


def forbidden(language: str | None) -> PublicError:
    return PublicError(ErrorCode.FORBIDDEN, language)


# --- Transport failures are SERVICE_UNAVAILABLE, never an internal error ----------------

from strawberry.extensions import SchemaExtension  # noqa: E402

from app.db import is_transport_failure  # noqa: E402
from app.errors import ServiceUnavailable  # noqa: E402

unavailable_log = logging.getLogger("happy.graphql")


def service_unavailable(language: str | None, retry_after: int) -> PublicError:
    error = PublicError(ErrorCode.SERVICE_UNAVAILABLE, language, retry_after=retry_after)
    error.extensions = {**(error.extensions or {}), "retryAfterSeconds": retry_after}
    return error


class ServiceUnavailableErrors(SchemaExtension):
    """Errors caused by a dropped or refused database connection (``is_transport_failure``)
    become SERVICE_UNAVAILABLE with ``retryAfterSeconds``, and the HTTP answer 503 with
    ``Retry-After``: the till may send the same request again. Listed after
    ``MaskUnexpectedErrors`` so it sees the errors first (extensions exit in reverse order).
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is None or not errors:
            return
        context = self.execution_context.context
        settings = context.runtime.settings
        retry_after = settings.service_unavailable_retry_after_seconds
        replaced = False
        new_errors = []
        for error in errors:
            original = error.original_error
            if original is not None and (
                isinstance(original, ServiceUnavailable) or is_transport_failure(original)
            ):
                if isinstance(original, ServiceUnavailable):
                    retry_after = max(retry_after, original.retry_after)
                unavailable_log.warning(
                    "database unavailable in %s: %s: %s",
                    ".".join(str(p) for p in error.path or []) or "operation",
                    type(original).__name__,
                    original,
                )
                replacement = service_unavailable(context.language, retry_after)
                new_errors.append(
                    GraphQLError(
                        replacement.message,
                        nodes=error.nodes,
                        source=error.source,
                        positions=error.positions,
                        path=error.path,
                        extensions=replacement.extensions,
                    )
                )
                replaced = True
            else:
                new_errors.append(error)
        if not replaced:
            return
        result.errors = new_errors
        response = getattr(context, "response", None)
        if response is not None:
            response.status_code = 503
            response.headers["Retry-After"] = str(retry_after)
