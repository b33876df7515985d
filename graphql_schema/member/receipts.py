"""The member's receipts from partner tills: ``me.receipts`` (a connection, filtered by
partner and dates) and ``me.receipt``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from app.errors import InvalidInput, NotFound
from app.partners import service as partners
from app.receipts import service as receipts
from graphql_schema.pagination import Connection, from_global_id
from graphql_schema.receipt_types import (
    ReceiptNode,
    invalid_query_input,
    receipt_connection,
    receipt_page_args,
)


async def resolve_receipts(
    context: Any,
    member_id: int,
    *,
    first: int,
    after: str | None,
    partner_id: strawberry.ID | None,
    issued_from: datetime | None,
    issued_to: datetime | None,
) -> Connection[ReceiptNode]:
    try:
        size, cursor = receipt_page_args(first, after, issued_from, issued_to)
        partner_code = None if partner_id is None else from_global_id(partner_id, "Partner")
    except InvalidInput as exc:
        raise invalid_query_input(exc, context.language) from exc
    # History tolerates replication lag: the read replica when configured (docs/scaling.md),
    # else the primary without a transaction (the partner's id and the page need not share
    # a snapshot).
    async with context.db.replica_session() as session:
        partner_pk = None
        if partner_code is not None:
            partner = await partners.find_partner(session, partner_code)
            partner_pk = -1 if partner is None else partner.id  # unknown: no receipts
        rows = await receipts.list_member_receipts(
            session,
            member_id,
            partner_id=partner_pk,
            issued_from=issued_from,
            issued_to=issued_to,
            after=cursor,
            limit=size + 1,
        )
    return receipt_connection(rows, size)


async def resolve_receipt(context: Any, member_id: int, id: strawberry.ID) -> ReceiptNode | None:
    try:
        pk = int(from_global_id(id, "Receipt"))
    except (InvalidInput, ValueError):
        return None
    async with context.db.single_read() as session:
        try:
            receipt = await receipts.get_member_receipt(session, member_id, pk)
        except NotFound:
            return None
    return ReceiptNode.from_model(receipt)
