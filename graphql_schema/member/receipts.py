"""The member's receipts from partner tills: ``me.receipts`` (a connection, filtered by
partner and dates) and ``me.receipt``.

Each is read whole, with partner, store and lines, in at most two statements
(:mod:`app.receipts.history`) and answered as plain values (:class:`ReceiptRecord`): a page
of 50 receipts costs what a page of 5 costs, and completing it runs no resolver per receipt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from app.errors import InvalidInput
from app.receipts import history
from graphql_schema.lookahead import asks_for
from graphql_schema.pagination import Connection, from_global_id
from graphql_schema.receipt_types import (
    ReceiptRecord,
    invalid_query_input,
    receipt_page_args,
    receipt_record_connection,
)


async def resolve_receipts(
    info: Any,
    member_id: int,
    *,
    first: int,
    after: str | None,
    partner_id: strawberry.ID | None,
    issued_from: datetime | None,
    issued_to: datetime | None,
) -> Connection[ReceiptRecord]:
    context = info.context
    try:
        size, cursor = receipt_page_args(first, after, issued_from, issued_to)
        partner_code = None if partner_id is None else from_global_id(partner_id, "Partner")
    except InvalidInput as exc:
        raise invalid_query_input(exc, context.language) from exc
    # History tolerates replication lag: the read replica when configured (docs/scaling.md),
    # else the primary without a transaction. A receipt's lines commit with it, so the
    # lines of every receipt on a page are where the page was read.
    async with context.db.replica_connection() as connection:
        rows = await history.member_page(
            connection,
            member_id,
            partner_code=partner_code,
            issued_from=issued_from,
            issued_to=issued_to,
            after=cursor,
            limit=size + 1,
            with_lines=asks_for(info, "edges", "node", "lines"),
        )
    return receipt_record_connection(rows, size)


async def resolve_receipt(info: Any, member_id: int, id: strawberry.ID) -> ReceiptRecord | None:
    try:
        pk = int(from_global_id(id, "Receipt"))
    except (InvalidInput, ValueError):
        return None
    if not 0 <= pk < 2**63:
        return None
    async with info.context.db.single_read_connection() as connection:
        found = await history.member_receipts(
            connection, member_id, [pk], with_lines=asks_for(info, "lines")
        )
    view = found.get(pk)
    return None if view is None else ReceiptRecord.from_view(view)
