"""The partner door's DataLoaders."""

from __future__ import annotations

from app.db import Database
from graphql_schema.receipt_loaders import ReceiptLoaders


class PartnerLoaders:
    def __init__(self, db: Database) -> None:
        self.receipts = ReceiptLoaders(db)
