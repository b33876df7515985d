"""Linking a plastic card at the till: ``requestCardLinkCode`` then ``linkPlasticCard``
(see ``auth.card_link_codes`` for the flow and its limits)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from app import clock
from auth import card_link_codes
from graphql_schema.errors import (
    CardError,
    CodeError,
    InputError,
    MemberNotIdentifiedError,
    RateLimitedError,
)


@strawberry.type(description="The code is on its way to the member's phone.")
class CardLinkCodeSent:
    expires_at: datetime
    resend_after_seconds: int


@strawberry.type(
    description="The plastic card is the member's now: scan it on the receipt to earn."
)
class PlasticCardLinked:
    card_number: str
    first_name: str | None
    linked_at: datetime


RequestCardLinkCodeResult = Annotated[
    CardLinkCodeSent | CardError | MemberNotIdentifiedError | RateLimitedError | InputError,
    strawberry.union("RequestCardLinkCodeResult"),
]
LinkPlasticCardResult = Annotated[
    PlasticCardLinked
    | CodeError
    | CardError
    | MemberNotIdentifiedError
    | RateLimitedError
    | InputError,
    strawberry.union("LinkPlasticCardResult"),
]


async def request_code(ctx: Any, card_number: str, phone: str) -> CardLinkCodeSent:
    caller = await ctx.caller()
    async with ctx.db.unit_of_work() as session:
        sent = await card_link_codes.request_code(
            session, ctx.runtime, caller, card_number=card_number, phone=phone, now=clock.now()
        )
    return CardLinkCodeSent(
        expires_at=sent.expires_at, resend_after_seconds=sent.resend_after_seconds
    )


async def link(ctx: Any, card_number: str, phone: str, sms_code: str) -> PlasticCardLinked:
    caller = await ctx.caller()
    async with ctx.db.unit_of_work() as session:
        linked = await card_link_codes.link_with_code(
            session,
            ctx.runtime,
            caller,
            card_number=card_number,
            phone=phone,
            code=sms_code,
            now=clock.now(),
        )
    return PlasticCardLinked(
        card_number=linked.card_number,
        first_name=linked.member_first_name,
        linked_at=linked.linked_at,
    )
