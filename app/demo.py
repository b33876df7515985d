"""The demo coalition from the seeds (SPEC "The programme"); ``happy demo`` loads it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.partners import service as partners
from app.programme.service import get_programme

# (code, name, sector, brands, stores: (code, name, city, country))
DEMO_PARTNERS: list[
    tuple[str, str, str, list[tuple[str, str]], list[tuple[str, str, str, str]]]
] = [
    (
        "NEPTUN",
        "Neptun",
        "electronics",
        [("NEPTUN", "Neptun")],
        [
            ("NEP-TIR-01", "Neptun TEG", "Tirana", "AL"),
            ("NEP-DUR-01", "Neptun Durrës", "Durrës", "AL"),
            ("NEP-PRN-01", "Neptun Prishtina", "Prishtina", "XK"),
            ("NEP-SKP-01", "Neptun Skopje", "Skopje", "MK"),
        ],
    ),
    (
        "SMARTPOINT",
        "Smart Point",
        "electronics",
        [("SMARTPOINT", "Smart Point")],
        [
            ("SMP-TIR-01", "Smart Point Blloku", "Tirana", "AL"),
            ("SMP-POD-01", "Smart Point Podgorica", "Podgorica", "ME"),
        ],
    ),
    (
        "SPAR",
        "Spar",
        "grocery",
        [("SPAR", "Spar")],
        [
            ("SPAR-TIR-01", "Spar Kombinat", "Tirana", "AL"),
            ("SPAR-TIR-02", "Spar Rruga e Kavajës", "Tirana", "AL"),
            ("SPAR-VLO-01", "Spar Vlorë", "Vlorë", "AL"),
        ],
    ),
    (
        "JUMBO",
        "Jumbo",
        "toys and home",
        [("JUMBO", "Jumbo")],
        [
            ("JMB-TIR-01", "Jumbo Tirana East Gate", "Tirana", "AL"),
            ("JMB-PRN-01", "Jumbo Prishtina", "Prishtina", "XK"),
        ],
    ),
    (
        "FGA",
        "Fashion Group Albania",
        "fashion",
        [
            ("MANGO", "Mango"),
            ("PARFOIS", "Parfois"),
            ("GEOX", "Geox"),
            ("WOMENSECRET", "Women'secret"),
            ("OKAIDI", "Okaidi"),
            ("PRENATAL", "Prenatal"),
            ("CORTEFIEL", "Cortefiel"),
            ("CARPISA", "Carpisa"),
            ("SPRINGFIELD", "Springfield"),
        ],
        [
            ("FGA-MANGO-TIR", "Mango Toptani", "Tirana", "AL"),
            ("FGA-PARFOIS-TIR", "Parfois TEG", "Tirana", "AL"),
            ("FGA-GEOX-TIR", "Geox Tirana", "Tirana", "AL"),
            ("FGA-SPRINGFIELD-POD", "Springfield Podgorica", "Podgorica", "ME"),
        ],
    ),
]


async def load_demo(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Create (or complete) the demo coalition; running it again changes nothing."""
    await get_programme(session)
    counts = {"partners": 0, "brands": 0, "stores": 0}
    for code, name, sector, brands, stores in DEMO_PARTNERS:
        partner = await partners.ensure_partner(
            session, code=code, name=name, sector=sector, now=now
        )
        counts["partners"] += 1
        for brand_code, brand_name in brands:
            await partners.ensure_brand(session, partner, code=brand_code, name=brand_name)
            counts["brands"] += 1
        for store_code, store_name, city, country in stores:
            await partners.ensure_store(
                session,
                partner,
                code=store_code,
                name=store_name,
                city=city,
                country=country,
                now=now,
            )
            counts["stores"] += 1
    await seed_pos_demo(session, [p[0] for p in DEMO_PARTNERS], now)
    # Kiosk rules, prize catalogue and wheel for every demo store (issue 10).
    from app.kiosks.demo import seed_kiosk_demo

    await seed_kiosk_demo(session, [(s[0], p[2]) for p in DEMO_PARTNERS for s in p[4]], now)
    return counts


async def seed_pos_demo(session: AsyncSession, partner_codes: list[str], now: datetime) -> None:
    """Earn rules for the demo partners and the Happy reward levels (idempotent)."""
    from app.partners.earn_rules import seed_demo_rules
    from app.rewards.service import ensure_default_levels

    await seed_demo_rules(session, partner_codes, now)
    await ensure_default_levels(session, now)
