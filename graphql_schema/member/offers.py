"""The member's offers (``me.offers``, ``activateOffer``) and tier (``me.tier``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry

from app import clock
from app.errors import InvalidInput
from app.members.models import Member as MemberModel
from app.offers import service as offers
from app.offers.models import Mechanic
from app.tiers import service as tiers
from graphql_schema.errors import InputError, OfferError
from graphql_schema.pagination import (
    Connection,
    build_connection,
    encode_cursor,
    from_global_id,
    page_arguments,
    row_id_key,
    to_global_id,
)
from graphql_schema.receipt_types import invalid_query_input

MechanicEnum = strawberry.enum(Mechanic, name="OfferMechanic")


@strawberry.type(
    description="How far the member is: `current` of `target` (`unit`: a currency, "
    "amounts in minor units)."
)
class OfferProgress:
    current: int
    target: int
    unit: str


@strawberry.type(description="A place where an offer applies.")
class OfferPlace:
    partner: str | None
    store: str | None
    city: str | None


@strawberry.type(name="Offer", description="An offer meant for the member now.")
class OfferNode:
    id: strawberry.ID
    title: str
    description: str
    image_url: str | None
    mechanic: MechanicEnum  # type: ignore[valid-type]
    bonus_points: int | None = strawberry.field(description="The points it gives (flat offers).")
    multiplier_percent: int | None = strawberry.field(description="200: double points.")
    funded_by: str | None = strawberry.field(description="The partner paying (null: Happy).")
    valid_from: datetime
    valid_until: datetime
    needs_activation: bool
    activated: bool
    uses_left: int | None = strawberry.field(description="null: unlimited.")
    progress: OfferProgress | None
    places: list[OfferPlace] = strawberry.field(description="Empty: at every partner.")


def _node(
    item: offers.MemberOffer,
    language: str,
    partners: dict[int, str],
    stores: dict[int, tuple[str, str]],
) -> OfferNode:
    offer = item.offer
    places = [
        OfferPlace(partner=partners.get(p), store=None, city=None) for p in offer.partner_ids or []
    ]
    if offer.store_ids:
        places = [
            OfferPlace(
                partner=None, store=stores.get(s, ("", ""))[0], city=stores.get(s, ("", ""))[1]
            )
            for s in offer.store_ids
        ]
    current = item.progress
    return OfferNode(
        id=to_global_id("Offer", offer.id),
        title=offer.title_in(language),
        description=offer.description_in(language),
        image_url=offer.image_url,
        mechanic=offer.mechanic,
        bonus_points=offer.points or None,
        multiplier_percent=offer.multiplier_pct or None,
        funded_by=partners.get(offer.funder_partner_id) if offer.funder_partner_id else None,
        valid_from=offer.starts_at,
        valid_until=offer.ends_at,
        needs_activation=offer.activation_required,
        activated=item.activated,
        uses_left=item.uses_left,
        progress=(
            OfferProgress(current=current, target=offer.min_spend, unit=offer.currency or "")
            if current is not None
            else None
        ),
        places=places,
    )


def _cursor(keys: list[Any]) -> tuple[datetime, int]:
    ends = datetime.fromisoformat(str(keys[0]))
    if ends.utcoffset() is None:
        raise ValueError("a cursor date without a time zone")
    return ends.astimezone(UTC), row_id_key(keys[1])


async def resolve_offers(
    context: Any, member_id: int, *, first: int, after: str | None
) -> Connection[OfferNode]:
    try:
        size, cursor = page_arguments(first, after, _cursor)
    except InvalidInput as exc:
        raise invalid_query_input(exc, context.language) from exc
    async with context.db.read_session() as session:
        member = await session.get(MemberModel, member_id)
        assert member is not None
        rows = await offers.offers_for_member(
            session, member, clock.now(), after=cursor, limit=size + 1
        )
        partners, stores = await offers.places_of(session, [r.offer for r in rows])
    return build_connection(
        rows,
        size,
        lambda r: encode_cursor(r.offer.ends_at.isoformat(), r.offer.id),
        lambda r: _node(r, member.language, partners, stores),
    )


ActivateOfferResult = Annotated[
    OfferNode | OfferError | InputError, strawberry.union("ActivateOfferResult")
]


async def activate_offer(context: Any, offer_id: strawberry.ID) -> OfferNode:
    caller = await context.caller()
    key = from_global_id(offer_id, "Offer")
    if not key.isdigit() or len(key) > 18:
        raise InvalidInput(field="offerId")
    offer_pk = int(key)
    async with context.db.unit_of_work() as session:
        member = await session.get(MemberModel, caller.id)
        assert member is not None
        item = await offers.activate_offer(session, member, offer_pk, clock.now())
        partners, stores = await offers.places_of(session, [item.offer])
        return _node(item, member.language, partners, stores)


@strawberry.type(name="Tier", description="The member's card level.")
class TierNode:
    code: str
    name: str
    since: datetime
    kept_until: datetime | None = strawberry.field(
        description="Kept at least until then, whatever the points do (null: base tier)."
    )
    next_tier: str | None
    points_to_next: int | None = strawberry.field(
        description="Points still to earn in 12 months for the next tier (null: at the top)."
    )
    qualifying_points: int = strawberry.field(
        description="Points earned at partners in the last 12 months, net of returns."
    )


async def resolve_tier(context: Any, member_id: int) -> TierNode | None:
    async with context.db.read_session() as session:
        member = await session.get(MemberModel, member_id)
        assert member is not None
        view = await tiers.member_tier_view(session, member_id, member.created_at, clock.now())
    if view is None:
        return None
    return TierNode(
        code=view.code,
        name=view.name,
        since=view.since,
        kept_until=view.kept_until,
        next_tier=view.next_tier,
        points_to_next=view.points_to_next,
        qualifying_points=view.qualifying_points,
    )
