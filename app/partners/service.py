"""Partners, brands and stores: creating and listing them (operator)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.partners.models import Brand, Partner, Store

COUNTRY_CURRENCY = {"AL": "ALL", "XK": "EUR", "MK": "MKD", "ME": "EUR"}


async def find_partner(session: AsyncSession, code: str) -> Partner | None:
    """The partner with ``code`` (e.g. ``SPAR``), or None: the one lookup by code."""
    stmt = select(Partner).where(Partner.code == code)
    return (await session.execute(stmt)).scalar_one_or_none()


async def ensure_partner(
    session: AsyncSession, *, code: str, name: str, sector: str, now: datetime
) -> Partner:
    """The partner with ``code``, created if missing (idempotent)."""
    partner = (
        await session.execute(select(Partner).where(Partner.code == code))
    ).scalar_one_or_none()
    if partner is None:
        partner = Partner(code=code, name=name, sector=sector, active=True, created_at=now)
        session.add(partner)
        await session.flush()
    return partner


async def ensure_brand(session: AsyncSession, partner: Partner, *, code: str, name: str) -> Brand:
    brand = (
        await session.execute(
            select(Brand).where(Brand.partner_id == partner.id, Brand.code == code)
        )
    ).scalar_one_or_none()
    if brand is None:
        brand = Brand(partner_id=partner.id, code=code, name=name)
        session.add(brand)
        await session.flush()
    return brand


async def ensure_store(
    session: AsyncSession,
    partner: Partner,
    *,
    code: str,
    name: str,
    city: str,
    country: str,
    now: datetime,
) -> Store:
    """The store with ``code``; its currency follows its market (SPEC "Markets")."""
    if country not in COUNTRY_CURRENCY:
        raise InvalidInput(field="country")
    store = (await session.execute(select(Store).where(Store.code == code))).scalar_one_or_none()
    if store is None:
        store = Store(
            code=code,
            partner_id=partner.id,
            name=name,
            city=city,
            country=country,
            currency=COUNTRY_CURRENCY[country],
            active=True,
            created_at=now,
        )
        session.add(store)
        await session.flush()
    elif store.partner_id != partner.id:
        raise InvalidInput(field="code")
    return store


async def list_stores(session: AsyncSession) -> list[tuple[Store, Partner]]:
    stmt = (
        select(Store, Partner)
        .join(Partner, Partner.id == Store.partner_id)
        .order_by(Partner.code, Store.code)
    )
    return [(store, partner) for store, partner in (await session.execute(stmt)).all()]


async def partners_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Partner]:
    """These partners by id (unknown ids left out)."""
    return {p.id: p for p in await session.scalars(select(Partner).where(Partner.id.in_(ids)))}


async def stores_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Store]:
    """These stores by id (unknown ids left out)."""
    return {s.id: s for s in await session.scalars(select(Store).where(Store.id.in_(ids)))}
