"""``happy partner``, ``happy store``, ``happy partner key`` and ``happy earn-rule``: the
coalition's partners, their stores, the stores' API keys and the partners' earn rules."""

from __future__ import annotations

import argparse
from typing import Any

from app import clock
from app.db import Database
from app.settings import Settings
from cli import arguments
from cli.context import run
from cli.table import print_table


def cmd_store_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.partners.service import list_stores

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            rows = await list_stores(session)
        print_table(
            (
                "STORE",
                "PARTNER",
                "PARTNER NAME",
                "STORE NAME",
                "CITY",
                "COUNTRY",
                "CURRENCY",
                "STATE",
            ),
            [
                (
                    store.code,
                    partner.code,
                    partner.name,
                    store.name,
                    store.city,
                    store.country,
                    store.currency,
                    _store_state(store),
                )
                for store, partner in rows
            ],
        )
        return 0

    return run(settings, work)


def _store_state(store: Any) -> str:
    if store.closed_at is not None:
        return f"closed {store.closed_at:%Y-%m-%d}"
    return "open" if store.active else "inactive"


def cmd_store_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.partners.service import create_store

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            store = await create_store(
                session,
                partner_code=args.partner,
                code=args.code,
                name=args.name,
                city=args.city,
                country=args.country,
                address=args.address,
                now=clock.now(),
            )
        print(
            f"store {store.code} of {args.partner.upper()} in {store.city} ({store.country}), "
            f"receipts in {store.currency}"
        )
        return 0

    return run(settings, work)


def cmd_store_close(args: argparse.Namespace, settings: Settings) -> int:
    from app.partners.service import close_store

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            store, changed = await close_store(session, args.store, clock.now())
        if changed:
            print(f"store {store.code} closed: its API keys and kiosks are refused from now on")
        else:
            print(f"store {store.code} was already closed")
        return 0

    return run(settings, work)


def cmd_partner_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.partners.service import create_partner

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            partner = await create_partner(
                session, code=args.code, name=args.name, sector=args.sector, now=clock.now()
            )
        print(f"partner {partner.code}: {partner.name} ({partner.sector})")
        return 0

    return run(settings, work)


def cmd_partner_update(args: argparse.Namespace, settings: Settings) -> int:
    from app.partners.service import update_partner
    from cli.errors import UsageError

    if args.name is None and args.sector is None and args.active is None:
        raise UsageError("say what to change: --name, --sector, --active or --inactive")

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            partner = await update_partner(
                session, args.partner, name=args.name, sector=args.sector, active=args.active
            )
        state = "active" if partner.active else "inactive"
        print(f"partner {partner.code}: {partner.name} ({partner.sector}), {state}")
        return 0

    return run(settings, work)


def cmd_partner_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.partners.service import list_partners

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            rows = await list_partners(session)
        print_table(
            ("PARTNER", "NAME", "SECTOR", "STATE", "STORES", "OPEN STORES"),
            [
                (
                    p.code,
                    p.name,
                    p.sector,
                    "active" if p.active else "inactive",
                    p.stores,
                    p.open_stores,
                )
                for p in rows
            ],
        )
        return 0

    return run(settings, work)


def cmd_partner_set(args: argparse.Namespace, settings: Settings) -> int:
    from app.partners.service import set_partner_logo

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            partner = await set_partner_logo(session, args.partner, args.logo_url)
        print(f"{partner.code}: logo {partner.logo_url or 'removed'}")
        return 0

    return run(settings, work)


def cmd_store_set(args: argparse.Namespace, settings: Settings) -> int:
    from app.partners.service import set_store_address

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            store = await set_store_address(session, args.store, args.address)
        print(f"{store.code}: address {store.address or 'removed'}")
        return 0

    return run(settings, work)


def cmd_key_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.runtime import build_runtime
    from auth import api_keys

    keys = build_runtime(settings).keys

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            issued = await api_keys.create_key(
                session, keys, store_code=args.store, label=args.label, now=clock.now()
            )
        print(f"API key {issued.prefix} for store {issued.store_code} (shown once, keep it safe):")
        print(issued.key)
        return 0

    return run(settings, work)


def cmd_key_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from auth import api_keys

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            changed = await api_keys.revoke_key(session, prefix=args.prefix, now=clock.now())
        print(f"key {args.prefix} {'revoked' if changed else 'was already revoked'}")
        return 0

    return run(settings, work)


def cmd_key_list(args: argparse.Namespace, settings: Settings) -> int:
    from auth import api_keys

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            rows = await api_keys.list_keys(session)
        print_table(
            ("PREFIX", "STORE", "STATE", "LAST USED", "LABEL"),
            [
                (
                    key.prefix,
                    store.code,
                    f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active",
                    f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never",
                    key.label or "",
                )
                for key, store in rows
            ],
        )
        return 0

    return run(settings, work)


def cmd_earn_rate(args: argparse.Namespace, settings: Settings) -> int:
    from app.partners import earn_rules
    from cli.money import format_money

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            rate = await earn_rules.set_rate(
                session,
                partner_code=args.partner,
                currency=args.currency,
                points=args.points,
                per_amount=args.per_amount,
                now=clock.now(),
            )
        print(
            f"{args.partner}: {rate.points} point(s) per "
            f"{format_money(rate.per_amount, rate.currency)}"
        )
        return 0

    return run(settings, work)


def cmd_earn_modifier(args: argparse.Namespace, settings: Settings) -> int:
    from app.partners import earn_rules
    from app.partners.earn_rule_models import ModifierKind

    kind = ModifierKind.BRAND if args.brand is not None else ModifierKind.CATEGORY
    match: str = args.brand if args.brand is not None else args.category
    pct = None if args.remove else (0 if args.exclude else args.multiplier)

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            await earn_rules.set_modifier(
                session,
                partner_code=args.partner,
                kind=kind,
                match=match,
                multiplier_pct=pct,
                now=clock.now(),
            )
        what = "removed" if pct is None else ("excluded" if pct == 0 else f"{pct} %")
        print(f"{args.partner} {kind.value} {match.strip().lower()}: {what}")
        return 0

    return run(settings, work)


def cmd_earn_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.partners import earn_rules
    from cli.money import format_money

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            rates, modifiers = await earn_rules.list_rules(session)
        for partner, rate in rates:
            print(
                f"{partner.code}\trate\t{rate.currency}\t{rate.points} per "
                f"{format_money(rate.per_amount, rate.currency)}"
            )
        for partner, modifier in modifiers:
            value = "excluded" if modifier.multiplier_pct == 0 else f"{modifier.multiplier_pct} %"
            print(f"{partner.code}\t{modifier.kind.value}\t{modifier.match}\t{value}")
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    store = sub.add_parser("store", help="stores").add_subparsers(
        dest="store_command", required=True, metavar="COMMAND"
    )
    store.add_parser(
        "list", help="every store with its partner (store code first, with a header)"
    ).set_defaults(handler=cmd_store_list)
    store_set = store.add_parser("set", help="a store's details for the public directory")
    store_set.add_argument("store", metavar="CODE", help="store code (see `happy store list`)")
    store_set.add_argument(
        "--address", required=True, help='street address, 200 characters max ("" removes it)'
    )
    store_set.set_defaults(handler=cmd_store_set)
    store_create = store.add_parser(
        "create", help="a new store of a partner (currency follows the country)"
    )
    store_create.add_argument("--partner", required=True, metavar="CODE", help="partner code")
    store_create.add_argument(
        "--code", required=True, help="store code: 2-32 of A-Z, 0-9, - and _ (e.g. SPAR-TR-02)"
    )
    store_create.add_argument("--name", required=True, help="store name, 160 characters max")
    store_create.add_argument("--city", required=True, help="city, 80 characters max")
    store_create.add_argument(
        "--country",
        required=True,
        help="AL (receipts in ALL), XK (EUR), MK (MKD) or ME (EUR)",
    )
    store_create.add_argument("--address", help="street address, 200 characters max")
    store_create.set_defaults(handler=cmd_store_create)
    store_close = store.add_parser(
        "close", help="close a store for good: its API keys and kiosks stop working at once"
    )
    store_close.add_argument("store", metavar="CODE", help="store code")
    store_close.set_defaults(handler=cmd_store_close)

    partner = sub.add_parser("partner", help="partners and their API keys").add_subparsers(
        dest="partner_command", required=True, metavar="COMMAND"
    )
    partner_set = partner.add_parser("set", help="a partner's details for the public directory")
    partner_set.add_argument("partner", metavar="CODE", help="partner code (e.g. SPAR)")
    partner_set.add_argument(
        "--logo-url",
        required=True,
        help="https URL, or a path on this server such as /microsite/img/partners/spar.svg "
        '("" removes it)',
    )
    partner_set.set_defaults(handler=cmd_partner_set)
    partner_create = partner.add_parser("create", help="a new partner company")
    partner_create.add_argument(
        "--code", required=True, help="partner code: 2-32 of A-Z, 0-9, - and _ (e.g. SPAR)"
    )
    partner_create.add_argument("--name", required=True, help="name, 120 characters max")
    partner_create.add_argument(
        "--sector", required=True, help="what it sells (grocery, electronics), 60 max"
    )
    partner_create.set_defaults(handler=cmd_partner_create)
    partner_update = partner.add_parser("update", help="a partner's name, sector or state")
    partner_update.add_argument("partner", metavar="CODE", help="partner code")
    partner_update.add_argument("--name", help="new name")
    partner_update.add_argument("--sector", help="new sector")
    state = partner_update.add_mutually_exclusive_group()
    state.add_argument(
        "--active", dest="active", action="store_const", const=True, help="takes part again"
    )
    state.add_argument(
        "--inactive",
        dest="active",
        action="store_const",
        const=False,
        help="stops taking part: its stores' keys and kiosks are refused",
    )
    partner_update.set_defaults(handler=cmd_partner_update, active=None)
    partner.add_parser("list", help="every partner with its stores' count").set_defaults(
        handler=cmd_partner_list
    )
    key = partner.add_parser("key", help="API keys of stores").add_subparsers(
        dest="key_command", required=True, metavar="COMMAND"
    )
    create = key.add_parser("create", help="new key for a store (printed once, last line)")
    create.add_argument(
        "--store", required=True, metavar="CODE", help="store code (see `happy store list`)"
    )
    create.add_argument("--label", help="a note to recognise the key by (till, ERP), 80 max")
    create.set_defaults(handler=cmd_key_create)
    revoke = key.add_parser("revoke", help="revoke a key by its prefix (or the whole key)")
    revoke.add_argument("prefix", help="the key's prefix from `happy partner key list`")
    revoke.set_defaults(handler=cmd_key_revoke)
    key.add_parser("list", help="keys, without secrets").set_defaults(handler=cmd_key_list)

    earn = sub.add_parser("earn-rule", help="earn rules per partner").add_subparsers(
        dest="earn_command", required=True, metavar="COMMAND"
    )
    rate = earn.add_parser("rate", help="base rate: POINTS per PER_AMOUNT minor units")
    rate.add_argument("--partner", required=True, metavar="CODE", help="partner code")
    rate.add_argument(
        "--currency", required=True, type=arguments.currency, help="receipt currency (ALL, EUR)"
    )
    rate.add_argument(
        "--points", type=arguments.non_negative_int, required=True, help="points earned"
    )
    rate.add_argument(
        "--per-amount",
        type=arguments.positive_int,
        required=True,
        metavar="MINOR_UNITS",
        help="for this much spent, in minor units (10000 = 100.00)",
    )
    rate.set_defaults(handler=cmd_earn_rate)
    modifier = earn.add_parser("set", help="brand or category multiplier or exclusion")
    modifier.add_argument("--partner", required=True, metavar="CODE", help="partner code")
    target = modifier.add_mutually_exclusive_group(required=True)
    target.add_argument("--brand", help="brand name as on the receipt lines")
    target.add_argument("--category", help="category as on the receipt lines")
    value = modifier.add_mutually_exclusive_group(required=True)
    value.add_argument(
        "--multiplier",
        type=arguments.non_negative_int,
        metavar="PERCENT",
        help="percent of the base rate: 200 = double points",
    )
    value.add_argument("--exclude", action="store_true", help="earn no points on these lines")
    value.add_argument("--remove", action="store_true", help="drop the modifier")
    modifier.set_defaults(handler=cmd_earn_modifier)
    earn.add_parser("list", help="all rates and modifiers").set_defaults(handler=cmd_earn_list)
