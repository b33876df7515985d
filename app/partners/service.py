"""Partners, brands and stores: creating and listing them (operator)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.callers import Channel, StoreCaller
from app.errors import InvalidInput, NotFound
from app.partners.models import Brand, Partner, Store

COUNTRY_CURRENCY = {"AL": "ALL", "XK": "EUR", "MK": "MKD", "ME": "EUR"}


async def find_partner(session: AsyncSession, code: str) -> Partner | None:
    """The partner with ``code`` (e.g. ``SPAR``), or None: the one lookup by code."""
    stmt = select(Partner).where(Partner.code == code)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_partner(session: AsyncSession, code: str) -> Partner:
    """The partner with ``code``; :class:`NotFound` (field ``partner``) if there is none."""
    partner = await find_partner(session, code)
    if partner is None:
        raise NotFound(field="partner")
    return partner


async def ensure_partner(
    session: AsyncSession, *, code: str, name: str, sector: str, now: datetime
) -> Partner:
    """The partner with ``code``, created if missing (idempotent)."""
    partner = await find_partner(session, code)
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


async def store_by_code(session: AsyncSession, code: str) -> Store | None:
    return (await session.execute(select(Store).where(Store.code == code))).scalar_one_or_none()


async def store_caller(
    session: AsyncSession, store_id: int, *, channel: Channel, limit_key: str
) -> StoreCaller | None:
    """The caller acting for store ``store_id``, or None while the store or its partner
    is inactive (a door then refuses the credential)."""
    row = (
        await session.execute(
            select(Store, Partner)
            .join(Partner, Partner.id == Store.partner_id)
            .where(Store.id == store_id)
        )
    ).one_or_none()
    if row is None:
        return None
    store, partner = row
    if not store.active or not partner.active:
        return None
    return StoreCaller(
        channel=channel,
        limit_key=limit_key,
        store_id=store.id,
        store_code=store.code,
        store_currency=store.currency,
        partner_id=partner.id,
        partner_code=partner.code,
        partner_name=partner.name,
    )


async def find_store(session: AsyncSession, code: str) -> tuple[Store, Partner] | None:
    """The store with ``code`` and its partner, or None."""
    row = (
        await session.execute(
            select(Store, Partner)
            .join(Partner, Partner.id == Store.partner_id)
            .where(Store.code == code)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


async def partners_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Partner]:
    """These partners by id (unknown ids left out)."""
    return {p.id: p for p in await session.scalars(select(Partner).where(Partner.id.in_(ids)))}


async def stores_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Store]:
    """These stores by id (unknown ids left out)."""
    return {s.id: s for s in await session.scalars(select(Store).where(Store.id.in_(ids)))}
