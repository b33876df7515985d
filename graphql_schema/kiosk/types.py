"""What the kiosk door shows: a member's first name and balance, and the kiosk's own results.

Nothing here carries a phone number, a receipt, a voucher code, contact data or another
member (``tests/kiosk/test_kiosk_visibility.py`` walks this schema to keep it so).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import strawberry

from app.kiosks.service import StartedVisit
from app.prizes.models import Prize, SegmentKind, WheelSegment
from graphql_schema.errors import (
    CodeError,
    ConflictError,
    InputError,
    InsufficientPointsError,
    MemberBlockedError,
    MemberNotIdentifiedError,
    NotFoundError,
    RateLimitedError,
)
from graphql_schema.prize_types import (
    EnrolmentError,
    KioskRuleError,
    PrizeError,
    PrizeExchangeCancelled,
    PrizeHandedOver,
    StaffPinError,
    VisitEndedError,
)


@strawberry.enum(name="WheelSegmentKind")
class WheelSegmentKind(StrEnum):
    POINTS = SegmentKind.POINTS.value
    VOUCHER = SegmentKind.VOUCHER.value
    GOODS = SegmentKind.GOODS.value
    NOTHING = SegmentKind.NOTHING.value


@strawberry.type(description="This kiosk and its store.")
class KioskInfo:
    kiosk_id: str
    label: str | None
    store_name: str
    store_code: str


@strawberry.type(
    description="A kiosk enrolled: its device token is shown once (null for the "
    "tablet app, header X-Happy-Client: web, which gets it as an HttpOnly cookie)."
)
class KioskEnrolled:
    device_token: str | None
    kiosk: KioskInfo


@strawberry.type(
    description="A member at this kiosk: the session ends after "
    "`expiresInSeconds` without a request or on endVisit."
)
class Visit:
    session: str
    expires_in_seconds: int
    first_name: str | None
    balance: int
    is_new_member: bool
    checked_in_today: bool
    plays_left: int

    @classmethod
    def from_started(cls, started: StartedVisit) -> Visit:
        s = started.summary
        return cls(
            session=started.session_token,
            expires_in_seconds=started.expires_in_seconds,
            first_name=s.first_name,
            balance=s.balance,
            is_new_member=s.is_new_member,
            checked_in_today=s.checked_in_today,
            plays_left=s.plays_left,
        )


@strawberry.type(description="A code was sent by SMS to the number typed.")
class KioskCodeSent:
    expires_at: datetime
    resend_after_seconds: int


@strawberry.type(description="The check-in bonus was credited.")
class CheckedIn:
    points_awarded: int
    balance: int


@strawberry.type(description="A segment of this store's wheel, in wheel order.")
class KioskWheelSegment:
    id: str
    label: str
    kind: WheelSegmentKind

    @classmethod
    def from_model(cls, segment: WheelSegment) -> KioskWheelSegment:
        return cls(id=segment.public_id, label=segment.label, kind=WheelSegmentKind(segment.kind))


@strawberry.type(
    description="The server's draw: the wheel lands on `segmentId` (null: "
    "no segment could come up)."
)
class SpinResult:
    draw_id: str
    segment_id: str | None
    kind: WheelSegmentKind
    label: str
    points_won: int
    pickup_code: str | None
    balance: int
    plays_left: int


@strawberry.type(description="A prize of this store's catalogue, priced in points.")
class KioskPrize:
    id: str
    name: str
    image: str | None
    points_price: int
    in_stock: bool

    @classmethod
    def from_model(cls, prize: Prize) -> KioskPrize:
        return cls(
            id=prize.public_id,
            name=prize.name,
            image=prize.image,
            points_price=prize.points_price,
            in_stock=prize.stock > 0,
        )


@strawberry.type(description="The member was sent an SMS code to confirm the exchange.")
class PrizeExchangeRequested:
    exchange_id: str
    prize_name: str
    points_price: int
    expires_at: datetime
    resend_after_seconds: int


@strawberry.type(description="Points exchanged: show the pickup code; staff hand the prize over.")
class PrizeExchangeConfirmed:
    exchange_id: str
    prize_name: str
    points_spent: int
    pickup_code: str
    balance: int


@strawberry.type(description="A reward level claimed: the vouchers are in the member's app.")
class KioskRewardClaimed:
    level: int
    points_spent: int
    voucher_count: int
    balance: int


@strawberry.type(description="The visit is over.")
class VisitClosed:
    ended: bool


EnrolKioskResult = Annotated[
    KioskEnrolled | EnrolmentError | InputError | RateLimitedError,
    strawberry.union("EnrolKioskResult"),
]
IdentifyByCardResult = Annotated[
    Visit | MemberNotIdentifiedError | InputError | RateLimitedError,
    strawberry.union("IdentifyByCardResult"),
]
RequestKioskCodeResult = Annotated[
    KioskCodeSent | InputError | RateLimitedError, strawberry.union("RequestKioskCodeResult")
]
IdentifyByPhoneResult = Annotated[
    Visit | CodeError | InputError | RateLimitedError, strawberry.union("IdentifyByPhoneResult")
]
CheckInResult = Annotated[
    CheckedIn | KioskRuleError | VisitEndedError | MemberBlockedError,
    strawberry.union("CheckInResult"),
]
SpinWheelResult = Annotated[
    SpinResult | KioskRuleError | VisitEndedError | MemberBlockedError,
    strawberry.union("SpinWheelResult"),
]
RequestPrizeExchangeResult = Annotated[
    PrizeExchangeRequested
    | PrizeError
    | InsufficientPointsError
    | RateLimitedError
    | VisitEndedError
    | InputError
    | MemberBlockedError,
    strawberry.union("RequestPrizeExchangeResult"),
]
ConfirmPrizeExchangeResult = Annotated[
    PrizeExchangeConfirmed
    | CodeError
    | PrizeError
    | InsufficientPointsError
    | RateLimitedError
    | VisitEndedError
    | InputError
    | MemberBlockedError,
    strawberry.union("ConfirmPrizeExchangeResult"),
]
KioskClaimRewardResult = Annotated[
    KioskRewardClaimed
    | InsufficientPointsError
    | NotFoundError
    | ConflictError
    | VisitEndedError
    | InputError
    | MemberBlockedError,
    strawberry.union("KioskClaimRewardResult"),
]
HandOverPrizeResult = Annotated[
    PrizeHandedOver | PrizeError | StaffPinError | RateLimitedError,
    strawberry.union("HandOverPrizeResult"),
]
CancelPrizeExchangeResult = Annotated[
    PrizeExchangeCancelled | PrizeError | StaffPinError | RateLimitedError,
    strawberry.union("CancelPrizeExchangeResult"),
]
