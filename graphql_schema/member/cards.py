"""The member's plastic cards: ``linkCard(number)`` links a pre-issued plastic card."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from app import clock
from app.members import plastic_cards
from graphql_schema.errors import CardError, InputError, RateLimitedError
from graphql_schema.member.types import Card


@strawberry.type(description="The plastic card is now the member's: it earns and identifies.")
class CardLinked:
    card: Card
    linked_at: datetime


LinkCardResult = Annotated[
    CardLinked | CardError | RateLimitedError | InputError,
    strawberry.union("LinkCardResult"),
]


async def link_card(context: Any, number: str) -> CardLinked:
    """Link the plastic card; unknown, taken or closed numbers are ``CardError`` and count
    against the member (10 failures an hour, then ``RateLimitedError``)."""
    caller = await context.caller()
    async with context.db.unit_of_work() as session:
        card = await plastic_cards.link_card(
            session, caller.id, number, clock.now(), limit_key=f"member:{caller.id}"
        )
    assert card.linked_at is not None
    return CardLinked(card=Card(number=card.number), linked_at=card.linked_at)
