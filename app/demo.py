"""The demo coalition from the seeds (SPEC "The programme"); ``happy demo`` loads it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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


# The demo partners' logos (files of the microsite) and the stores' street addresses,
# for the public directory.
DEMO_LOGOS = {
    "NEPTUN": "/microsite/img/partners/neptun.svg",
    "SMARTPOINT": "/microsite/img/partners/smartpoint.svg",
    "SPAR": "/microsite/img/partners/spar.svg",
    "JUMBO": "/microsite/img/partners/jumbo.svg",
    "FGA": "/microsite/img/partners/fga.svg",
}
DEMO_ADDRESSES = {
    "NEP-TIR-01": "Tirana East Gate, Autostrada Tiranë-Durrës Km 7, Lundër",
    "NEP-DUR-01": "Rruga Aleksandër Goga, Lagjja 11, Durrës",
    "NEP-PRN-01": "Rruga Bill Clinton, Prishtinë 10000",
    "NEP-SKP-01": "Bulevar Partizanski Odredi 70, Skopje 1000",
    "SMP-TIR-01": "Rruga Pjetër Bogdani 18, Blloku, Tiranë",
    "SMP-POD-01": "Bulevar Džordža Vašingtona 83, Podgorica 81000",
    "SPAR-TIR-01": "Rruga Teodor Keko, Kombinat, Tiranë",
    "SPAR-TIR-02": "Rruga e Kavajës 132, Tiranë 1001",
    "SPAR-VLO-01": "Rruga Sadik Zotaj, Lagjja Pavarësia, Vlorë 9401",
    "JMB-TIR-01": "Tirana East Gate, Autostrada Tiranë-Durrës Km 7, Lundër",
    "JMB-PRN-01": "Magjistralja Prishtinë-Ferizaj Km 5, Prishtinë",
    "FGA-MANGO-TIR": "Toptani Shopping Center, Rruga Abdi Toptani, Tiranë",
    "FGA-PARFOIS-TIR": "Tirana East Gate, Autostrada Tiranë-Durrës Km 7, Lundër",
    "FGA-GEOX-TIR": "Rruga Ismail Qemali 27, Tiranë",
    "FGA-SPRINGFIELD-POD": "Big Fashion, Cetinjski put 1, Podgorica",
}


async def load_demo(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Create (or complete) the demo coalition; running it again changes nothing."""
    await get_programme(session)
    counts = {"partners": 0, "brands": 0, "stores": 0}
    for code, name, sector, brands, stores in DEMO_PARTNERS:
        partner = await partners.ensure_partner(
            session, code=code, name=name, sector=sector, now=now
        )
        counts["partners"] += 1
        if partner.logo_url is None and code in DEMO_LOGOS:
            await partners.set_partner_logo(session, code, DEMO_LOGOS[code])
        for brand_code, brand_name in brands:
            await partners.ensure_brand(session, partner, code=brand_code, name=brand_name)
            counts["brands"] += 1
        for store_code, store_name, city, country in stores:
            store = await partners.ensure_store(
                session,
                partner,
                code=store_code,
                name=store_name,
                city=city,
                country=country,
                now=now,
            )
            if store.address is None and store_code in DEMO_ADDRESSES:
                await partners.set_store_address(session, store_code, DEMO_ADDRESSES[store_code])
            counts["stores"] += 1
    await seed_pos_demo(session, [p[0] for p in DEMO_PARTNERS], now)
    from app.tiers.service import seed_demo_tiers

    await seed_demo_tiers(session, now)
    # Kiosk rules, prize catalogue and wheel for every demo store (issue 10).
    from app.kiosks.demo import seed_kiosk_demo

    await seed_kiosk_demo(session, [(s[0], p[2]) for p in DEMO_PARTNERS for s in p[4]], now)
    await seed_redemption_demo(session, now)
    # Fraud limits a normal demo day never reaches (issue 14).
    from app.fraud.service import ensure_demo_limits

    await ensure_demo_limits(session, now)
    return counts


async def seed_redemption_demo(session: AsyncSession, now: datetime) -> None:
    """Exchange rates for ALL and MKD, and SMS confirmation of vouchers of 9.60 EUR and
    more (issue 14); kept where the operator already set them."""
    from app.fx.service import seed_demo_rates
    from app.programme.service import DEMO_REDEMPTION_CONFIRMATION_EUR

    await seed_demo_rates(session, now)
    from app.programme.service import update_programme

    programme = await get_programme(session)  # a cached copy: changed through update_programme
    if programme.redemption_confirmation_eur is None:
        await update_programme(
            session, redemption_confirmation_eur=DEMO_REDEMPTION_CONFIRMATION_EUR
        )


async def seed_pos_demo(session: AsyncSession, partner_codes: list[str], now: datetime) -> None:
    """Earn rules for the demo partners and the Happy reward levels (idempotent)."""
    from app.partners.earn_rules import seed_demo_rules
    from app.rewards.service import ensure_default_levels

    await seed_demo_rules(session, partner_codes, now)
    await ensure_default_levels(session, now)


async def load_demo_offers(session: AsyncSession, now: datetime) -> int:
    """A few realistic offers (once: none are added when offers exist): an automatic
    multiplier at Mango, a Spar monthly spend offer that needs activating, a Jumbo bonus
    for spending 5,000 ALL in one receipt, and a Happy+ offer at Neptun."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from app.offers.definition import parse_offer
    from app.offers.models import Offer
    from app.offers.service import create_offer

    if await session.scalar(select(func.count()).select_from(Offer)):
        return 0
    start, end = (now - timedelta(days=1)).isoformat(), (now + timedelta(days=30)).isoformat()
    files: list[dict[str, Any]] = [
        {
            "title": {"sq": "Pikë dyfish te Mango", "en": "Double points at Mango"},
            "description": {
                "sq": "Çdo blerje Mango fiton pikë dyfish këtë muaj.",
                "en": "Every Mango purchase earns double points this month.",
            },
            "funder": "FGA",
            "mechanic": {"kind": "multiplier", "percent": 200, "on": {"brands": ["MANGO"]}},
        },
        {
            "title": {
                "sq": "Shpenzo 1.500 lekë te Spar, merr 500 pikë",
                "en": "Spend 1,500 ALL at Spar, get 500 points",
            },
            "description": {
                "sq": "Blerjet te Spar këtë muaj mblidhen; aktivizojeni ofertën.",
                "en": "Your Spar purchases this month add up; activate the offer first.",
            },
            "funder": "SPAR",
            "mechanic": {
                "kind": "aggregate_spend",
                "spend": 150000,
                "currency": "ALL",
                "points": 500,
            },
            "activation": "required",
            "budget": 500000,
        },
        {
            "title": {"sq": "100 pikë shtesë te Jumbo", "en": "100 extra points at Jumbo"},
            "description": {
                "sq": "Për një blerje mbi 5.000 lekë.",
                "en": "For one purchase over 5,000 ALL.",
            },
            "funder": "JUMBO",
            "where": {"stores": ["JMB-TIR-01"]},
            "mechanic": {"kind": "spend_get", "spend": 500000, "currency": "ALL", "points": 100},
            "usesPerMember": 3,
        },
        {
            "title": {
                "sq": "Happy+: pikë trefish te Neptun",
                "en": "Happy+: triple points at Neptun",
            },
            "funder": "programme",
            "where": {"partners": ["NEPTUN"]},
            "segment": {"kind": "tier", "tier": "happy_plus"},
            "mechanic": {"kind": "multiplier", "percent": 300},
            "activation": "required",
            "budget": 100000,
        },
    ]
    for body in files:
        await create_offer(
            session, parse_offer({**body, "validFrom": start, "validUntil": end}), now
        )
    return len(files)
