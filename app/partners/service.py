"""Partners, brands and stores: creating and listing them (operator)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.callers import Channel, StoreCaller
from app.errors import Conflict, InvalidInput, NotFound
from app.partners.models import Brand, DirectoryVersion, Partner, Store
from app.text import require_clean_text

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
        await bump_directory_version(session)
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
        await bump_directory_version(session)
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
        await bump_directory_version(session)
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


_CALLER_COLUMNS = (
    Store.id.label("store_id"),
    Store.code.label("store_code"),
    Store.currency.label("store_currency"),
    Store.active.label("store_active"),
    Partner.id.label("partner_id"),
    Partner.code.label("partner_code"),
    Partner.name.label("partner_name"),
    Partner.active.label("partner_active"),
)


def store_caller_columns() -> tuple[Any, ...]:
    """The store and partner columns :func:`store_caller_of_row` reads, for a door that
    joins ``Store`` and ``Partner`` onto its credential's lookup (one statement)."""
    return _CALLER_COLUMNS


def store_caller_of_row(row: Row[Any], *, channel: Channel, limit_key: str) -> StoreCaller | None:
    """:func:`store_caller` from a row holding :func:`store_caller_columns`."""
    values = row._mapping
    if not values["store_active"] or not values["partner_active"]:
        return None
    return StoreCaller(
        channel=channel,
        limit_key=limit_key,
        store_id=values["store_id"],
        store_code=values["store_code"],
        store_currency=values["store_currency"],
        partner_id=values["partner_id"],
        partner_code=values["partner_code"],
        partner_name=values["partner_name"],
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


# --- the public coalition directory ------------------------------------------------------

DIRECTORY_ROW = 1
MAX_LOGO_URL = 500
MAX_ADDRESS = 200


async def bump_directory_version(session: AsyncSession) -> None:
    """Count a change to partners, brands or stores (same transaction as the change):
    every process's cached directory sees a new version on its next read."""
    bump = (
        update(DirectoryVersion)
        .where(DirectoryVersion.id == DIRECTORY_ROW)
        .values(version=DirectoryVersion.version + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(await session.execute(bump), "rowcount", 0):
        return
    try:
        async with session.begin_nested():
            await session.execute(insert(DirectoryVersion).values(id=DIRECTORY_ROW, version=1))
    except IntegrityError:  # another transaction created the row meanwhile
        await session.execute(bump)


async def directory_version(session: AsyncSession) -> int:
    """The directory's version (0 before any change was counted): one lookup by key."""
    stmt = select(DirectoryVersion.version).where(DirectoryVersion.id == DIRECTORY_ROW)
    return int(await session.scalar(stmt) or 0)


def _logo_url(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > MAX_LOGO_URL or any(c.isspace() for c in value):
        raise InvalidInput(field="logoUrl")
    if not (value.startswith("https://") or (value.startswith("/") and not value.startswith("//"))):
        raise InvalidInput(field="logoUrl")  # https, or a path on this server
    return require_clean_text(value, "logoUrl")


def _address(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = " ".join(value.split())
    if len(value) > MAX_ADDRESS:
        raise InvalidInput(field="address")
    return require_clean_text(value, "address")


async def set_partner_logo(session: AsyncSession, code: str, logo_url: str | None) -> Partner:
    """Set (or, with None or "", clear) the partner's logo: an https URL or a path on
    this server. Counts as a directory change."""
    partner = await get_partner(session, code)
    partner.logo_url = _logo_url(logo_url)
    await session.flush()
    await bump_directory_version(session)
    return partner


async def set_store_address(session: AsyncSession, code: str, address: str | None) -> Store:
    """Set (or clear) the store's street address. Counts as a directory change."""
    store = await store_by_code(session, code)
    if store is None:
        raise NotFound(field="store")
    store.address = _address(address)
    await session.flush()
    await bump_directory_version(session)
    return store


@dataclass(frozen=True, slots=True)
class DirectoryStore:
    code: str
    name: str
    city: str
    country: str
    address: str | None
    city_key: str


@dataclass(frozen=True, slots=True)
class DirectoryPartner:
    code: str
    name: str
    sector: str
    logo_url: str | None
    brands: tuple[str, ...]
    stores: tuple[DirectoryStore, ...]

    def stores_in(self, city: str | None) -> tuple[DirectoryStore, ...]:
        if city is None or not city.strip():
            return self.stores
        key = city_key(city)
        return tuple(s for s in self.stores if s.city_key == key)


@dataclass(frozen=True, slots=True)
class Directory:
    version: int
    partners: tuple[DirectoryPartner, ...]


def city_key(city: str) -> str:
    """Cities compare without case or accents: "durres", "Durrës" and "DURRËS" match."""
    decomposed = unicodedata.normalize("NFKD", city.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


async def load_directory(session: AsyncSession, version: int) -> Directory:
    """Active partners (by name) with their brands and active stores (by city, name): one
    query per level, three in all, whatever the number of partners."""
    partners = list(
        await session.scalars(
            select(Partner).where(Partner.active.is_(True)).order_by(Partner.name)
        )
    )
    ids = [p.id for p in partners]
    brands: dict[int, list[str]] = {i: [] for i in ids}
    stores: dict[int, list[DirectoryStore]] = {i: [] for i in ids}
    if ids:
        for brand in await session.scalars(
            select(Brand).where(Brand.partner_id.in_(ids)).order_by(Brand.name)
        ):
            brands[brand.partner_id].append(brand.name)
        for store in await session.scalars(
            select(Store)
            .where(Store.partner_id.in_(ids), Store.active.is_(True))
            .order_by(Store.city, Store.name)
        ):
            stores[store.partner_id].append(
                DirectoryStore(
                    code=store.code,
                    name=store.name,
                    city=store.city,
                    country=store.country,
                    address=store.address,
                    city_key=city_key(store.city),
                )
            )
    return Directory(
        version=version,
        partners=tuple(
            DirectoryPartner(
                code=p.code,
                name=p.name,
                sector=p.sector,
                logo_url=p.logo_url,
                brands=tuple(brands[p.id]),
                stores=tuple(stores[p.id]),
            )
            for p in partners
        ),
    )


# --- the operator's partner and store commands (issue 14, toolbox) -------------------------

MAX_PARTNER_NAME = 120
MAX_SECTOR = 60
MAX_STORE_NAME = 160
MAX_CITY = 80


def _code(value: str, field: str) -> str:
    """A partner or store code: 2 to 32 of A-Z, 0-9, ``-`` and ``_`` (upper-cased)."""
    code = value.strip().upper()
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
    if not 2 <= len(code) <= 32 or not set(code) <= allowed:
        raise InvalidInput(field=field)
    return code


def _name(value: str, field: str, maximum: int) -> str:
    text = " ".join((value or "").split())
    if not text or len(text) > maximum:
        raise InvalidInput(field=field, maximum=maximum)
    return require_clean_text(text, field)


@dataclass(frozen=True, slots=True)
class PartnerSummary:
    code: str
    name: str
    sector: str
    active: bool
    stores: int
    open_stores: int


async def create_partner(
    session: AsyncSession, *, code: str, name: str, sector: str, now: datetime
) -> Partner:
    """A new partner; :class:`Conflict` (field ``code``) if the code is taken."""
    code = _code(code, "code")
    name = _name(name, "partnerName", MAX_PARTNER_NAME)
    sector = _name(sector, "sector", MAX_SECTOR)
    if await find_partner(session, code) is not None:
        raise Conflict(field="code", taken=code)
    partner = Partner(code=code, name=name, sector=sector, active=True, created_at=now)
    session.add(partner)
    await session.flush()
    await bump_directory_version(session)
    return partner


async def update_partner(
    session: AsyncSession,
    code: str,
    *,
    name: str | None = None,
    sector: str | None = None,
    active: bool | None = None,
) -> Partner:
    """Change a partner's name, sector or whether it takes part (an inactive partner's
    stores are refused at every door and hidden from the directory)."""
    partner = await get_partner(session, code.strip().upper())
    if name is not None:
        partner.name = _name(name, "partnerName", MAX_PARTNER_NAME)
    if sector is not None:
        partner.sector = _name(sector, "sector", MAX_SECTOR)
    if active is not None:
        partner.active = active
    await session.flush()
    await bump_directory_version(session)
    return partner


async def list_partners(session: AsyncSession) -> list[PartnerSummary]:
    """Every partner by code with its number of stores (and open ones): two queries."""
    partners = list(await session.scalars(select(Partner).order_by(Partner.code)))
    counts: dict[int, list[int]] = {p.id: [0, 0] for p in partners}
    rows = await session.execute(
        select(Store.partner_id, Store.active, func.count()).group_by(
            Store.partner_id, Store.active
        )
    )
    for partner_id, active, count in rows:
        if partner_id in counts:
            counts[partner_id][0] += count
            if active:
                counts[partner_id][1] += count
    return [PartnerSummary(p.code, p.name, p.sector, p.active, *counts[p.id]) for p in partners]


async def create_store(
    session: AsyncSession,
    *,
    partner_code: str,
    code: str,
    name: str,
    city: str,
    country: str,
    address: str | None,
    now: datetime,
) -> Store:
    """A new store of the partner; its currency follows its market (AL -> ALL, XK -> EUR,
    MK -> MKD, ME -> EUR). :class:`Conflict` (field ``code``) if the code is taken."""
    partner = await get_partner(session, partner_code.strip().upper())
    code = _code(code, "code")
    country = country.strip().upper()
    if country not in COUNTRY_CURRENCY:
        raise InvalidInput(field="country", allowed=", ".join(COUNTRY_CURRENCY))
    store = Store(
        code=code,
        partner_id=partner.id,
        name=_name(name, "storeName", MAX_STORE_NAME),
        city=_name(city, "city", MAX_CITY),
        country=country,
        currency=COUNTRY_CURRENCY[country],
        active=True,
        created_at=now,
        address=_address(address),
    )
    if await store_by_code(session, code) is not None:
        raise Conflict(field="code", taken=code)
    session.add(store)
    await session.flush()
    await bump_directory_version(session)
    return store


async def close_store(session: AsyncSession, code: str, now: datetime) -> tuple[Store, bool]:
    """Close the store for good: from this commit on its API keys and kiosks are refused
    (every request resolves its credential through :func:`store_caller`, which checks
    ``active``) and the directory no longer lists it. False if it was closed already."""
    store = await store_by_code(session, code.strip().upper())
    if store is None:
        raise NotFound(field="store")
    if store.closed_at is not None:
        return store, False
    store.active = False
    store.closed_at = now
    await session.flush()
    await bump_directory_version(session)
    return store, True
