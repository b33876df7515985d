"""GraphQL types for receipts, money and points breakdowns (member and partner doors)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from app.errors import InvalidInput
from app.receipts.history import LineView, ReceiptView
from app.receipts.models import Receipt, ReceiptLine
from app.receipts.scoring import BreakdownItem, BreakdownKind
from graphql_schema.pagination import (
    Connection,
    build_connection,
    encode_cursor,
    invalid_argument,
    page_arguments,
    row_id_key,
    to_global_id,
)


@strawberry.type(description="An amount of money in minor units (cents) and its ISO 4217 code.")
class Money:
    amount: int
    currency: str


BreakdownKindEnum = strawberry.enum(BreakdownKind, name="BreakdownKind")


@strawberry.type(
    description="One part of a receipt's points: the base rate, a brand/category bonus, the "
    "tier's bonus, an offer's bonus, or spend excluded from earning. The parts sum to the "
    "points earned."
)
class PointsBreakdownItem:
    kind: BreakdownKindEnum  # type: ignore[valid-type]
    rule: str | None = strawberry.field(description="e.g. `brand:mango`, `category:tobacco`")
    multiplier_percent: int
    amount: int = strawberry.field(description="The spend this part applies to (minor units).")
    points: int
    title: str | None = strawberry.field(
        default=None, description="The offer's title (OFFER) or the tier's name (TIER)."
    )
    offer_id: strawberry.ID | None = strawberry.field(
        default=None, description="The offer behind an OFFER part (as in `me.offers`)."
    )

    @classmethod
    def from_item(cls, item: BreakdownItem) -> PointsBreakdownItem:
        offer = item.offer_id
        return cls(
            kind=item.kind,
            rule=item.rule,
            multiplier_percent=item.multiplier_percent,
            amount=item.amount,
            points=item.points,
            title=item.title,
            offer_id=to_global_id("Offer", offer) if offer is not None else None,
        )


@strawberry.type
class PartnerSummary:
    id: strawberry.ID
    code: str
    name: str


@strawberry.type
class StoreSummary:
    code: str
    name: str
    city: str


@strawberry.type(name="ReceiptLine")
class ReceiptLineNode:
    line_number: int
    sku: str
    name: str
    brand: str | None
    category: str | None
    quantity: Decimal
    unit_price: int
    amount: int
    refunded_amount: int
    points: int = strawberry.field(description="This line's points before receipt rounding.")

    @classmethod
    def from_model(cls, line: ReceiptLine | LineView) -> ReceiptLineNode:
        return cls(
            line_number=line.line_no,
            sku=line.sku,
            name=line.name,
            brand=line.brand,
            category=line.category,
            quantity=Decimal(line.quantity_milli) / 1000,
            unit_price=line.unit_price,
            amount=line.amount,
            refunded_amount=line.refunded_amount,
            points=line.points,
        )


@strawberry.type
class ReceiptFields:
    """The fields of ``Receipt`` both doors share (in SDL order), before partner, store and
    lines (resolved per receipt on the partner door, plain values on the member door)."""

    id: strawberry.ID
    receipt_id: str = strawberry.field(description="The partner's own receipt id.")
    issued_at: datetime
    total: Money
    points_earned: int
    points_reversed: int
    points_uncollected: int
    refunded_amount: int
    breakdown: list[PointsBreakdownItem]


@strawberry.type(name="Receipt")
class ReceiptNode(ReceiptFields):
    """The partner door's receipt: partner, store and lines through the request's
    DataLoaders (one statement each per page)."""

    db_id: strawberry.Private[int]
    partner_db_id: strawberry.Private[int]
    store_db_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, receipt: Receipt) -> ReceiptNode:
        return cls(
            db_id=receipt.id,
            partner_db_id=receipt.partner_id,
            store_db_id=receipt.store_id,
            id=to_global_id("Receipt", receipt.id),
            receipt_id=receipt.external_id,
            issued_at=receipt.issued_at,
            total=Money(amount=receipt.total, currency=receipt.currency),
            points_earned=receipt.points_earned + receipt.bonus_points,
            points_reversed=receipt.points_reversed,
            points_uncollected=receipt.points_uncollected,
            refunded_amount=receipt.refunded_amount,
            breakdown=[PointsBreakdownItem.from_item(i) for i in receipt.breakdown_items],
        )

    @strawberry.field
    async def partner(self, info: Info[Any, None]) -> PartnerSummary:
        partner = await info.context.loaders.partner.load(self.partner_db_id)
        assert partner is not None
        return PartnerSummary(
            id=to_global_id("Partner", partner.code), code=partner.code, name=partner.name
        )

    @strawberry.field
    async def store(self, info: Info[Any, None]) -> StoreSummary:
        store = await info.context.loaders.store.load(self.store_db_id)
        assert store is not None
        return StoreSummary(code=store.code, name=store.name, city=store.city)

    @strawberry.field
    async def lines(self, info: Info[Any, None]) -> list[ReceiptLineNode]:
        lines = await info.context.loaders.receipt_lines.load(self.db_id)
        return [ReceiptLineNode.from_model(line) for line in lines]


@strawberry.type(name="Receipt")
class ReceiptRecord(ReceiptFields):
    """The member door's receipt: every field a plain value, filled from one page read
    (:mod:`app.receipts.history`), so completing a page runs no resolver per receipt."""

    partner: PartnerSummary
    store: StoreSummary
    lines: list[ReceiptLineNode]

    @classmethod
    def from_view(cls, view: ReceiptView) -> ReceiptRecord:
        return cls(
            id=to_global_id("Receipt", view.id),
            receipt_id=view.external_id,
            issued_at=view.issued_at,
            total=Money(amount=view.total, currency=view.currency),
            points_earned=view.points_earned,
            points_reversed=view.points_reversed,
            points_uncollected=view.points_uncollected,
            refunded_amount=view.refunded_amount,
            breakdown=[PointsBreakdownItem.from_item(i) for i in view.breakdown],
            partner=PartnerSummary(
                id=to_global_id("Partner", view.partner_code),
                code=view.partner_code,
                name=view.partner_name,
            ),
            store=StoreSummary(code=view.store_code, name=view.store_name, city=view.store_city),
            lines=[ReceiptLineNode.from_model(line) for line in view.lines],
        )


def _receipt_cursor(keys: list[Any]) -> tuple[datetime, int]:
    issued = datetime.fromisoformat(keys[0])  # TypeError unless a string
    if issued.utcoffset() is None:
        raise ValueError("a cursor date without a time zone")
    return issued.astimezone(UTC), row_id_key(keys[1])  # OverflowError near year 1


def receipt_page_args(
    first: int,
    after: str | None,
    issued_from: datetime | None = None,
    issued_to: datetime | None = None,
) -> tuple[int, tuple[datetime, int] | None]:
    """Page size and keyset cursor ``(issued_at, id)``; :class:`InvalidInput` if bad,
    including a ``from``/``to``/cursor date without a time zone (it would be ambiguous)."""
    for field, value in (("from", issued_from), ("to", issued_to)):
        if value is not None and value.utcoffset() is None:
            raise InvalidInput(field=field)
        try:
            if value is not None:
                value.astimezone(UTC)  # the database compares in UTC
        except OverflowError as exc:
            raise InvalidInput(field=field) from exc
    return page_arguments(first, after, _receipt_cursor)


def receipt_connection(rows: list[Receipt], size: int) -> Connection[ReceiptNode]:
    """The partner door's page (ORM rows)."""
    return build_connection(
        rows,
        size,
        lambda r: encode_cursor(r.issued_at.isoformat(), r.id),
        ReceiptNode.from_model,
    )


def receipt_record_connection(rows: list[ReceiptView], size: int) -> Connection[ReceiptRecord]:
    """The member door's page (plain views with partner, store and lines)."""
    return build_connection(
        rows,
        size,
        lambda r: encode_cursor(r.issued_at.isoformat(), r.id),
        ReceiptRecord.from_view,
    )


# The doors' name for the paging module's converter (one implementation).
invalid_query_input = invalid_argument
