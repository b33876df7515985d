"""The public coalition directory on the member door: ``coalition { partners { ... } }``,
answered without a session (where to earn is no secret), from the per-process cache of
``app.partners.directory``."""

from __future__ import annotations

from typing import Any

import strawberry

from app.partners.directory import coalition_directory
from app.partners.service import DirectoryPartner


@strawberry.type(name="DirectoryStore", description="A store where members earn points.")
class DirectoryStoreNode:
    code: str
    name: str
    city: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 (XK: Kosovo).")
    address: str | None = strawberry.field(description="Street address; null if not set.")


@strawberry.type(name="DirectoryBrand", description="A brand a partner sells under.")
class DirectoryBrandNode:
    name: str


@strawberry.type(name="DirectoryPartner", description="A partner company of the coalition.")
class DirectoryPartnerNode:
    code: str
    name: str
    sector: str
    logo_url: str | None = strawberry.field(description="Absolute URL of the logo, if any.")
    brands: list[DirectoryBrandNode]
    source: strawberry.Private[DirectoryPartner]

    @strawberry.field(
        description="Its active stores, by city and name; with `city`, only that city's "
        "(case and accents ignored: `durres` finds Durrës)."
    )
    def stores(self, city: str | None = None) -> list[DirectoryStoreNode]:
        return [
            DirectoryStoreNode(
                code=s.code, name=s.name, city=s.city, country=s.country, address=s.address
            )
            for s in self.source.stores_in(city)
        ]


@strawberry.type(description="The coalition: who takes the Happy card, and where.")
class Coalition:
    partners_list: strawberry.Private[tuple[DirectoryPartner, ...]]
    base_url: strawberry.Private[str]

    @strawberry.field(
        description="Active partners by name; with `city`, only those with a store there."
    )
    def partners(self, city: str | None = None) -> list[DirectoryPartnerNode]:
        chosen = [p for p in self.partners_list if city is None or p.stores_in(city)]
        return [
            DirectoryPartnerNode(
                code=p.code,
                name=p.name,
                sector=p.sector,
                logo_url=_absolute(self.base_url, p.logo_url),
                brands=[DirectoryBrandNode(name=b) for b in p.brands],
                source=p,
            )
            for p in chosen
        ]


def _absolute(base_url: str, url: str | None) -> str | None:
    if url is None or url.startswith("https://"):
        return url
    return base_url.rstrip("/") + url  # a path on this server


async def resolve_coalition(context: Any) -> Coalition:
    directory = await coalition_directory(context.db)
    return Coalition(
        partners_list=directory.partners, base_url=context.runtime.settings.public_base_url
    )
