"""DataLoaders for receipts (lines, partner, store), shared by the member and partner doors.

Each batch runs in its own short read session; a page of receipts costs one query for
the page plus one per relation, whatever the page size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from app.db import Database
from app.partners.models import Partner, Store
from app.receipts.models import ReceiptLine


class ReceiptLoaders:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.lines = DataLoader(load_fn=self._lines)
        self.partner = DataLoader(load_fn=self._partners)
        self.store = DataLoader(load_fn=self._stores)

    async def _lines(self, receipt_ids: Sequence[int]) -> list[list[ReceiptLine]]:
        stmt = (
            select(ReceiptLine)
            .where(ReceiptLine.receipt_id.in_(receipt_ids))
            .order_by(ReceiptLine.receipt_id, ReceiptLine.line_no)
        )
        async with self._db.read_session() as session:
            rows = (await session.execute(stmt)).scalars().all()
        grouped: dict[int, list[ReceiptLine]] = {r: [] for r in receipt_ids}
        for line in rows:
            grouped[line.receipt_id].append(line)
        return [grouped[r] for r in receipt_ids]

    async def _partners(self, ids: Sequence[int]) -> list[Partner | None]:
        async with self._db.read_session() as session:
            rows = {
                p.id: p
                for p in (
                    await session.execute(select(Partner).where(Partner.id.in_(ids)))
                ).scalars()
            }
        return [rows.get(i) for i in ids]

    async def _stores(self, ids: Sequence[int]) -> list[Store | None]:
        async with self._db.read_session() as session:
            rows = {
                s.id: s
                for s in (await session.execute(select(Store).where(Store.id.in_(ids)))).scalars()
            }
        return [rows.get(i) for i in ids]


def receipt_loaders(context: Any) -> ReceiptLoaders:
    """The request's receipt loaders (made on first use, kept for the request)."""
    found: ReceiptLoaders | None = getattr(context, "_receipt_loaders", None)
    if found is None:
        found = ReceiptLoaders(context.db)
        context._receipt_loaders = found
    return found
