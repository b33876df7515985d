"""The partner door's ``settlement(month)``: the caller's own partner row, nobody else's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.settlement.service import SettlementLine, SettlementReport
from graphql_schema.errors import InputError
from graphql_schema.receipt_types import Money


@strawberry.type(
    description="This partner's settlement for one month (programme time zone). Points "
    "issued are the points of lots it funded; reversed are what its refunds took back; "
    "expired, spent (vouchers and prizes) and forfeited are what debits in the month took of "
    "its lots; transferred are points of its lots other partners' refunds took (+) minus "
    "points its refunds took of other funders' lots (-). Money in EUR minor units. "
    "`net` > 0: the partner owes the programme; < 0: the programme owes the partner."
)
class PartnerSettlement:
    month: str
    starts_at: datetime
    ends_at: datetime
    closed: bool = strawberry.field(description="Closed months never change.")
    closed_at: datetime | None
    partner_code: str
    points_issued: int
    points_reversed: int
    points_transferred: int = strawberry.field(
        description="+ points of this partner's lots that other partners' refunds took (the "
        "member had spent the refunded points), - points this partner's refunds took of other "
        "funders' lots. Its lots changed by issued - reversed - transferred - expired - spent "
        "- forfeited."
    )
    points_expired: int
    points_spent: int
    points_forfeited: int
    vouchers_redeemed: int = strawberry.field(
        description="Redemptions at this partner's stores in the month, minus voids in it."
    )
    vouchers_value: Money
    point_value_micro_eur: int = strawberry.field(
        description="What one point is worth: millionths of a euro (4800 = 0.48 cents)."
    )
    liability: Money = strawberry.field(
        description="(issued - reversed - expired - forfeited) at the point value."
    )
    net: Money

    @classmethod
    def of(
        cls, found: SettlementReport, line: SettlementLine, partner_code: str
    ) -> PartnerSettlement:
        return cls(
            month=found.month,
            starts_at=found.starts_at,
            ends_at=found.ends_at,
            closed=found.closed_at is not None,
            closed_at=found.closed_at,
            partner_code=partner_code,
            points_issued=line.points_issued,
            points_reversed=line.points_reversed,
            points_transferred=line.points_transferred,
            points_expired=line.points_expired,
            points_spent=line.points_spent,
            points_forfeited=line.points_forfeited,
            vouchers_redeemed=line.vouchers_redeemed,
            vouchers_value=Money(amount=line.vouchers_value_cents, currency="EUR"),
            point_value_micro_eur=found.point_value_micro_eur,
            liability=Money(amount=line.liability_cents, currency="EUR"),
            net=Money(amount=line.net_cents, currency="EUR"),
        )


SettlementResult = Annotated[PartnerSettlement | InputError, strawberry.union("SettlementResult")]
