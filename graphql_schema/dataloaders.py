"""Batching loaders, one set per request; each batch uses its own short read session."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from app.db import Database
from app.ledger.models import PointsAccount
from app.members.models import Card, CardStatus, MarketingConsent


class MemberLoaders:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.card = DataLoader(load_fn=self._cards)
        self.account = DataLoader(load_fn=self._accounts)
        self.consents = DataLoader(load_fn=self._consents)
        from graphql_schema.member.wallet import wallet_pass_loader

        self.wallet_pass = wallet_pass_loader(db)

    async def _cards(self, member_ids: Sequence[int]) -> list[Card | None]:
        stmt = (
            select(Card)
            .where(Card.member_id.in_(member_ids), Card.status == CardStatus.ACTIVE)
            .order_by(Card.linked_at, Card.id)
        )
        async with self._db.read_session() as session:
            rows = (await session.execute(stmt)).scalars().all()
        # The digital card first: it is the one shown in the app.
        by_member: dict[int, Card] = {}
        for card in rows:
            assert card.member_id is not None
            by_member.setdefault(card.member_id, card)
        return [by_member.get(member_id) for member_id in member_ids]

    async def _accounts(self, member_ids: Sequence[int]) -> list[PointsAccount | None]:
        stmt = select(PointsAccount).where(PointsAccount.member_id.in_(member_ids))
        async with self._db.read_session() as session:
            rows = {a.member_id: a for a in (await session.execute(stmt)).scalars()}
        return [rows.get(member_id) for member_id in member_ids]

    async def _consents(self, member_ids: Sequence[int]) -> list[list[MarketingConsent]]:
        stmt = select(MarketingConsent).where(MarketingConsent.member_id.in_(member_ids))
        async with self._db.read_session() as session:
            rows = (await session.execute(stmt)).scalars().all()
        grouped: dict[int, list[MarketingConsent]] = {m: [] for m in member_ids}
        for consent in rows:
            grouped[consent.member_id].append(consent)
        return [grouped[m] for m in member_ids]
