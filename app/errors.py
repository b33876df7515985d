"""Typed domain errors: the expected failures a client can act on.

Services raise these; each door turns them into its own shape (a GraphQL error union
member, a USSD screen, a CLI message). ``code`` is machine-readable and stable; the
human message is rendered in the caller's language by :mod:`app.i18n` from ``code``
and ``params``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_PHONE = "INVALID_PHONE"
    PHONE_REGION_NOT_ALLOWED = "PHONE_REGION_NOT_ALLOWED"
    CODE_INVALID = "CODE_INVALID"
    CODE_EXPIRED = "CODE_EXPIRED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    RATE_LIMITED = "RATE_LIMITED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    ACCOUNT_DELETED = "ACCOUNT_DELETED"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    CONFLICT = "CONFLICT"
    # Partner POS door, receipts, rewards and vouchers (issue 3)
    RECEIPT_CONFLICT = "RECEIPT_CONFLICT"
    CARD_NOT_FOUND = "CARD_NOT_FOUND"
    CARD_TOKEN_EXPIRED = "CARD_TOKEN_EXPIRED"  # noqa: S105
    MEMBER_NOT_FOUND = "MEMBER_NOT_FOUND"
    WRONG_CURRENCY = "WRONG_CURRENCY"
    NEGATIVE_AMOUNT = "NEGATIVE_AMOUNT"
    TOTAL_MISMATCH = "TOTAL_MISMATCH"
    LINE_AMOUNT_MISMATCH = "LINE_AMOUNT_MISMATCH"
    REFUND_EXCEEDS_RECEIPT = "REFUND_EXCEEDS_RECEIPT"
    BATCH_TOO_LARGE = "BATCH_TOO_LARGE"
    VOUCHER_NOT_FOUND = "VOUCHER_NOT_FOUND"
    VOUCHER_ALREADY_REDEEMED = "VOUCHER_ALREADY_REDEEMED"
    VOUCHER_EXPIRED = "VOUCHER_EXPIRED"
    VOUCHER_NOT_VALID_HERE = "VOUCHER_NOT_VALID_HERE"
    VOID_WINDOW_PASSED = "VOID_WINDOW_PASSED"
    REWARD_LEVEL_NOT_FOUND = "REWARD_LEVEL_NOT_FOUND"
    # Offers and tiers (issue 12)
    OFFER_NOT_ELIGIBLE = "OFFER_NOT_ELIGIBLE"
    OFFER_EXPIRED = "OFFER_EXPIRED"
    OFFER_ALREADY_ACTIVE = "OFFER_ALREADY_ACTIVE"
    # Kiosk tablets, the wheel and the prize catalogue (issue 10)
    ENROLMENT_CODE_INVALID = "ENROLMENT_CODE_INVALID"
    VISIT_ENDED = "VISIT_ENDED"
    ALREADY_CHECKED_IN = "ALREADY_CHECKED_IN"
    NO_PLAYS_LEFT = "NO_PLAYS_LEFT"
    PRIZE_NOT_FOUND = "PRIZE_NOT_FOUND"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    EXCHANGE_NOT_FOUND = "EXCHANGE_NOT_FOUND"
    EXCHANGE_EXPIRED = "EXCHANGE_EXPIRED"
    PICKUP_CODE_NOT_FOUND = "PICKUP_CODE_NOT_FOUND"
    PRIZE_ALREADY_HANDED_OVER = "PRIZE_ALREADY_HANDED_OVER"
    PRIZE_EXCHANGE_CANCELLED = "PRIZE_EXCHANGE_CANCELLED"
    CANCEL_WINDOW_PASSED = "CANCEL_WINDOW_PASSED"
    STAFF_PIN_INVALID = "STAFF_PIN_INVALID"
    STAFF_PIN_NOT_SET = "STAFF_PIN_NOT_SET"
    # Confirmation of large redemptions and money across currencies (issue 14, redeem)
    CONFIRMATION_REQUIRED = "CONFIRMATION_REQUIRED"
    CONFIRMATION_NOT_FOUND = "CONFIRMATION_NOT_FOUND"
    EXCHANGE_RATE_MISSING = "EXCHANGE_RATE_MISSING"
    INVALID_RATE = "INVALID_RATE"
    # Fraud limits (issue 14, part fraud): a hard limit refuses, a soft one warns
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    LIMIT_WARNING = "LIMIT_WARNING"
    # Settlement (issue 14, part "settlement")
    INVALID_MONTH = "INVALID_MONTH"
    MONTH_NOT_ENDED = "MONTH_NOT_ENDED"
    MONTH_ALREADY_CLOSED = "MONTH_ALREADY_CLOSED"
    # Operator's toolbox: plastic cards, member blocks (issue 14, toolbox)
    CARD_ALREADY_LINKED = "CARD_ALREADY_LINKED"
    CARD_CLOSED = "CARD_CLOSED"
    MEMBER_BLOCKED = "MEMBER_BLOCKED"
    # The database could not be reached or dropped the connection: retry the same request
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class DomainError(Exception):
    """Base of every expected failure.

    ``keep_changes``: the unit of work commits what the service flushed before raising
    instead of rolling it back. Used where the failure itself must be recorded, e.g. a
    wrong one-time code spends one of its tries.
    """

    code: ErrorCode = ErrorCode.INVALID_INPUT
    keep_changes: bool = False
    # Written after the rollback, in a short transaction of its own (the unit of work, or a
    # batch after its line's savepoint): a refusal that must leave a trace (a fraud alert).
    # Takes the session; never set together with ``keep_changes``.
    after_rollback: Callable[[Any], Awaitable[None]] | None = None

    def __init__(
        self,
        code: ErrorCode | None = None,
        *,
        field: str | None = None,
        keep_changes: bool | None = None,
        **params: Any,
    ) -> None:
        if code is not None:
            self.code = code
        if keep_changes is not None:
            self.keep_changes = keep_changes
        self.field = field
        self.params = params
        super().__init__(f"{self.code}: {params}" if params else str(self.code))


class InvalidInput(DomainError):
    """The request is malformed or breaks a rule about its own content."""

    code = ErrorCode.INVALID_INPUT


class CodeRejected(DomainError):
    """A one-time code was wrong, expired or has no tries left."""

    code = ErrorCode.CODE_INVALID
    keep_changes = True

    def __init__(self, code: ErrorCode, *, attempts_left: int = 0) -> None:
        super().__init__(code, field="code", attempts_left=attempts_left)
        self.attempts_left = attempts_left


class RateLimited(DomainError):
    """Too many requests of one kind; ``retry_after`` seconds until the next is allowed."""

    code = ErrorCode.RATE_LIMITED
    keep_changes = False

    def __init__(self, retry_after: int, *, field: str | None = None) -> None:
        super().__init__(ErrorCode.RATE_LIMITED, field=field, retry_after=retry_after)
        self.retry_after = retry_after


class SessionRejected(DomainError):
    """A refresh token or session is unknown, expired, revoked or reused."""

    code = ErrorCode.UNAUTHENTICATED


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class InsufficientPoints(DomainError):
    code = ErrorCode.INSUFFICIENT_POINTS


class Conflict(DomainError):
    code = ErrorCode.CONFLICT


class ServiceUnavailable(Exception):
    """The request failed in transport (the database dropped or refused the connection, the
    pool timed out): nothing it did was committed unless its answer says so, and the same
    request may be sent again after ``retry_after`` seconds. A top-level error in every door
    (HTTP 503 with ``Retry-After`` where the whole request failed)."""

    code = ErrorCode.SERVICE_UNAVAILABLE

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"service unavailable, retry after {retry_after} s")
        self.retry_after = retry_after


class AuthenticationRequired(Exception):
    """No valid credential: a top-level error in every door (not data)."""


class PermissionDenied(Exception):
    """A valid caller asked for something it may not see or change."""


class MemberNotIdentified(DomainError):
    """The scanned card, card token or phone does not lead to an active member."""

    code = ErrorCode.CARD_NOT_FOUND


class VoucherRejected(DomainError):
    """A voucher cannot be validated, redeemed or its redemption voided (see ``code``)."""

    code = ErrorCode.VOUCHER_NOT_FOUND


class OfferRejected(DomainError):
    """A member cannot activate an offer: not meant for them, ended, or already active."""

    code = ErrorCode.OFFER_NOT_ELIGIBLE


# --- Kiosk tablets, the wheel and the prize catalogue (issue 10) -------------------------


class EnrolmentRejected(DomainError):
    """A kiosk enrolment code is unknown, used, expired, or its kiosk was revoked."""

    code = ErrorCode.ENROLMENT_CODE_INVALID


class VisitEnded(DomainError):
    """The kiosk visit session is unknown, ended, idle too long or from another kiosk."""

    code = ErrorCode.VISIT_ENDED


class KioskRuleRejected(DomainError):
    """A kiosk rule says no: already checked in today, no plays left."""

    code = ErrorCode.ALREADY_CHECKED_IN


class PrizeRejected(DomainError):
    """A prize or exchange cannot be had: unknown, out of stock, handed over, cancelled."""

    code = ErrorCode.PRIZE_NOT_FOUND


class StaffPinRejected(DomainError):
    """The store's staff PIN is wrong or not set (kiosk staff actions)."""

    code = ErrorCode.STAFF_PIN_INVALID


# --- Confirmation of large redemptions and money across currencies (issue 14, redeem) ----


class ConfirmationNeeded(DomainError):
    """The voucher is worth the programme's confirmation threshold or more: the member must
    confirm with an SMS code (``voucher_id``, ``member_id`` say which). The partner door's
    code layer (``auth.redemption_codes``) turns it into a sent code and an answer."""

    code = ErrorCode.CONFIRMATION_REQUIRED

    def __init__(self, *, voucher_id: int, member_id: int) -> None:
        super().__init__(ErrorCode.CONFIRMATION_REQUIRED, field="code")
        self.voucher_id = voucher_id
        self.member_id = member_id


class ExchangeRateMissing(DomainError):
    """No exchange rate of ``currency`` is valid on the day: the operator must set one."""

    code = ErrorCode.EXCHANGE_RATE_MISSING


# --- Fraud limits (issue 14, part fraud) --------------------------------------------------


_LIMIT_SCOPES = {
    "programme": "the programme's limit",
    "partner": "this partner's limit",
    "store": "this store's limit",
}


class LimitExceeded(DomainError):
    """A hard fraud limit refuses the receipt or redemption: ``kind`` would reach
    ``attempted`` where at most ``limit`` is allowed. Nothing is written but the alert."""

    code = ErrorCode.LIMIT_EXCEEDED

    def __init__(
        self,
        *,
        kind: str,
        limit: int,
        attempted: int,
        scope: str = "programme",
        after_rollback: Callable[[Any], Awaitable[None]] | None = None,
    ) -> None:
        # ``scope``: whose limit ("programme", "partner", "store"); the params carry its
        # English phrase for doors that translate params as they are.
        super().__init__(
            ErrorCode.LIMIT_EXCEEDED,
            kind=kind,
            limit=limit,
            attempted=attempted,
            scope=_LIMIT_SCOPES.get(scope, _LIMIT_SCOPES["programme"]),
        )
        self.scope = scope
        self.kind = kind
        self.limit = limit
        self.attempted = attempted
        self.after_rollback = after_rollback
