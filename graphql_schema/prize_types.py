"""Prize types and errors shared by the doors where staff hand prizes over (kiosk, partner)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.errors import (
    EnrolmentRejected,
    KioskRuleRejected,
    PrizeRejected,
    StaffPinRejected,
    VisitEnded,
)
from graphql_schema.errors import DomainErrorHandler, Error


@strawberry.type(description="The prize or exchange cannot be had or changed (see `code`).")
class PrizeError(Error):
    pass


@strawberry.type(description="The kiosk enrolment code is not valid, used or expired.")
class EnrolmentError(Error):
    pass


@strawberry.type(
    description="The visit ended (endVisit, idle too long, or a session of another "
    "kiosk): go back to the start screen."
)
class VisitEndedError(Error):
    pass


@strawberry.type(description="A kiosk rule says no: ALREADY_CHECKED_IN or NO_PLAYS_LEFT.")
class KioskRuleError(Error):
    pass


@strawberry.type(description="The store's staff PIN is wrong or not set.")
class StaffPinError(Error):
    pass


@strawberry.type(description="A prize was handed over to the member.")
class PrizeHandedOver:
    pickup_code: str
    prize_name: str
    handed_over_at: datetime


@strawberry.type(description="A prize exchange was cancelled: points and stock restored.")
class PrizeExchangeCancelled:
    pickup_code: str
    prize_name: str
    points_restored: int


PRIZE_HANDLERS = [
    DomainErrorHandler(PrizeRejected, PrizeError),
    DomainErrorHandler(EnrolmentRejected, EnrolmentError),
    DomainErrorHandler(VisitEnded, VisitEndedError),
    DomainErrorHandler(KioskRuleRejected, KioskRuleError),
    DomainErrorHandler(StaffPinRejected, StaffPinError),
]
