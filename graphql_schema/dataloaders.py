"""Every DataLoader of a request, built in one place (the context) in one style.

Each batch function opens its own short read session (resolvers run concurrently and an
``AsyncSession`` must not be shared; a batch is one statement, so the session runs without a
transaction: ``Database.single_read``) and calls one read function of the service that owns
the data: the doors run no SQL of their own. A page of N things costs one query for the page
plus one per relation, whatever N.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from functools import cached_property
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from app import clock
from app.db import Database
from app.ledger import service as ledger
from app.ledger.models import PointsAccount
from app.members import service as members
from app.members.models import Card, MarketingConsent
from app.partners import service as partners
from app.partners.models import Partner, Store
from app.receipts import service as receipts
from app.receipts.models import ReceiptLine
from app.wallet import service as wallet
from app.wallet.models import WalletPass

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _loader(
    db: Database,
    read: Callable[[AsyncSession, Sequence[K]], Awaitable[dict[K, V]]],
) -> DataLoader[K, V | None]:
    """A loader whose batch is one service read ``keys -> {key: value}``; missing keys
    load as None."""

    async def load(keys: Sequence[K]) -> list[V | None]:
        async with db.single_read() as session:
            found = await read(session, keys)
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


def _grouped_loader(
    db: Database,
    read: Callable[[AsyncSession, Sequence[K]], Awaitable[dict[K, list[V]]]],
) -> DataLoader[K, list[V]]:
    """A loader of lists (a to-many relation): missing keys load as an empty list."""

    async def load(keys: Sequence[K]) -> list[list[V]]:
        async with db.single_read() as session:
            found = await read(session, keys)
        return [found.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """The request's loaders, cached for the request (``context.loaders``); each is made
    on first use, so a request pays only for the relations it asks for."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # members
    @cached_property
    def card(self) -> DataLoader[int, Card | None]:
        return _loader(self.db, members.shown_cards)

    @cached_property
    def account(self) -> DataLoader[int, PointsAccount | None]:
        return _loader(self.db, ledger.accounts_of)

    @cached_property
    def consents(self) -> DataLoader[int, list[MarketingConsent]]:
        return _grouped_loader(self.db, members.consents_of)

    @cached_property
    def wallet_pass(self) -> DataLoader[str, WalletPass | None]:
        return _wallet_pass_loader(self.db)

    # receipts, partners, stores (member and partner doors)
    @cached_property
    def receipt_lines(self) -> DataLoader[int, list[ReceiptLine]]:
        return _grouped_loader(self.db, receipts.lines_of)

    @cached_property
    def partner(self) -> DataLoader[int, Partner | None]:
        return _loader(self.db, partners.partners_by_id)

    @cached_property
    def store(self) -> DataLoader[int, Store | None]:
        return _loader(self.db, partners.stores_by_id)


def _wallet_pass_loader(db: Database) -> DataLoader[str, WalletPass | None]:
    """Pass records by card number; created on first use (a short write of its own)."""

    async def load(numbers: Sequence[str]) -> list[WalletPass | None]:
        async with db.read_session() as session:
            found = await wallet.passes_of_cards(session, numbers)
        missing = [n for n in numbers if n not in found]
        if missing:
            async with db.unit_of_work() as session:
                found.update(await wallet.ensure_passes_for_cards(session, missing, clock.now()))
        return [found.get(n) for n in numbers]

    return DataLoader(load_fn=load)
