"""The member's receipt history as plain values: one statement for a page (receipts with
their partner and store), one for the lines of every receipt on it.

The read side of :mod:`app.receipts` for the member's app (``me.receipts``, ``me.receipt``
and the receipts behind ``me.activity``): Core selects of the columns shown, rows turned into
frozen dataclasses, no ORM identity map, no per-receipt loader. A page costs the same two
statements for 1 or 100 receipts (docs/decisions.md, "Read paths").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.ledger.models import PointsEntry
from app.partners.models import Partner, Store
from app.receipts.models import Receipt, ReceiptLine
from app.receipts.scoring import BreakdownItem

_receipts = Receipt.__table__.c
_lines = ReceiptLine.__table__.c
_partners = Partner.__table__.c
_stores = Store.__table__.c


@dataclass(frozen=True, slots=True)
class LineView:
    line_no: int
    sku: str
    name: str
    brand: str | None
    category: str | None
    quantity_milli: int
    unit_price: int
    amount: int
    refunded_amount: int
    points: int


@dataclass(frozen=True, slots=True)
class ReceiptView:
    """A receipt as the member sees it, with its partner, store and (when asked) lines."""

    id: int
    external_id: str
    issued_at: datetime
    currency: str
    total: int
    points_earned: int  # the lines' points and the bonuses
    points_reversed: int
    points_uncollected: int
    refunded_amount: int
    breakdown: tuple[BreakdownItem, ...]
    partner_code: str
    partner_name: str
    store_code: str
    store_name: str
    store_city: str
    lines: tuple[LineView, ...] = ()


def _base() -> Select[Any]:
    return (
        select(
            _receipts.id,
            _receipts.external_id,
            _receipts.issued_at,
            _receipts.currency,
            _receipts.total,
            _receipts.points_earned,
            _receipts.bonus_points,
            _receipts.points_reversed,
            _receipts.points_uncollected,
            _receipts.refunded_amount,
            _receipts.breakdown,
            _partners.code,
            _partners.name,
            _stores.code,
            _stores.name,
            _stores.city,
        )
        .join_from(Receipt.__table__, Partner.__table__, _partners.id == _receipts.partner_id)
        .join(Store.__table__, _stores.id == _receipts.store_id)
    )


_LINES = select(
    _lines.receipt_id,
    _lines.line_no,
    _lines.sku,
    _lines.name,
    _lines.brand,
    _lines.category,
    _lines.quantity_milli,
    _lines.unit_price,
    _lines.amount,
    _lines.refunded_amount,
    _lines.points,
).order_by(_lines.receipt_id, _lines.line_no)


def _view(row: Sequence[Any], lines: tuple[LineView, ...] = ()) -> ReceiptView:
    return ReceiptView(
        id=row[0],
        external_id=row[1],
        issued_at=row[2],
        currency=row[3],
        total=row[4],
        points_earned=row[5] + row[6],
        points_reversed=row[7],
        points_uncollected=row[8],
        refunded_amount=row[9],
        breakdown=tuple(BreakdownItem.from_json(item) for item in row[10] or ()),
        partner_code=row[11],
        partner_name=row[12],
        store_code=row[13],
        store_name=row[14],
        store_city=row[15],
        lines=lines,
    )


async def _lines_of(
    connection: AsyncConnection, receipt_ids: Iterable[int]
) -> dict[int, tuple[LineView, ...]]:
    ids = list(receipt_ids)
    if not ids:
        return {}
    grouped: dict[int, list[LineView]] = {}
    for row in await connection.execute(_LINES.where(_lines.receipt_id.in_(ids))):
        grouped.setdefault(row[0], []).append(LineView(*row[1:]))
    return {receipt_id: tuple(found) for receipt_id, found in grouped.items()}


async def _views(
    connection: AsyncConnection, stmt: Select[Any], *, with_lines: bool
) -> list[ReceiptView]:
    rows = list(await connection.execute(stmt))
    if not with_lines:
        return [_view(row) for row in rows]
    lines = await _lines_of(connection, (row[0] for row in rows))
    return [_view(row, lines.get(row[0], ())) for row in rows]


async def member_page(
    connection: AsyncConnection,
    member_id: int,
    *,
    partner_code: str | None,
    issued_from: datetime | None,
    issued_to: datetime | None,
    after: tuple[datetime, int] | None,
    limit: int,
    with_lines: bool,
) -> list[ReceiptView]:
    """The member's receipts, newest first, keyset-paginated by ``(issued_at, id)``;
    only one partner's (by its code: an unknown code has none) when ``partner_code``."""
    conditions: list[ColumnElement[bool]] = [_receipts.member_id == member_id]
    if partner_code is not None:
        conditions.append(_partners.code == partner_code)
    if issued_from is not None:
        conditions.append(_receipts.issued_at >= issued_from)
    if issued_to is not None:
        conditions.append(_receipts.issued_at < issued_to)
    if after is not None:
        issued, receipt_pk = after
        conditions.append(
            or_(
                _receipts.issued_at < issued,
                and_(_receipts.issued_at == issued, _receipts.id < receipt_pk),
            )
        )
    stmt = (
        _base()
        .where(*conditions)
        .order_by(_receipts.issued_at.desc(), _receipts.id.desc())
        .limit(limit)
    )
    return await _views(connection, stmt, with_lines=with_lines)


async def member_receipts(
    connection: AsyncConnection, member_id: int, receipt_ids: Iterable[int], *, with_lines: bool
) -> dict[int, ReceiptView]:
    """The member's receipts among ``receipt_ids`` (others' are not found), by id."""
    ids = sorted(set(receipt_ids))
    if not ids:
        return {}
    stmt = _base().where(_receipts.id.in_(ids), _receipts.member_id == member_id)
    return {view.id: view for view in await _views(connection, stmt, with_lines=with_lines)}


def receipt_ids_of_entries(entries: Iterable[PointsEntry]) -> dict[int, list[int]]:
    """The receipt behind each ledger entry that has one (points earned on it, or taken
    back after a return): ``{receipt id: [entry ids]}``."""
    wanted: dict[int, list[int]] = {}
    for entry in entries:
        if entry.reference_type == "receipt" and (entry.reference_id or "").isdigit():
            wanted.setdefault(int(entry.reference_id or 0), []).append(entry.id)
    return wanted
