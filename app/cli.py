"""``happy``: the operator's command line (local access to the database)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from app import clock
from app.db import Database
from app.settings import Settings, SettingsError, get_settings


def _run(settings: Settings, work: Callable[[Database], Awaitable[int]]) -> int:
    async def main() -> int:
        from app.main import open_database

        db, _runtime, delivery = open_database(settings)
        try:
            return await work(db)
        finally:
            await delivery.aclose()
            await db.dispose()

    return asyncio.run(main())


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run(
        "app.main:asgi_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_config=None,
        proxy_headers=False,
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from app.migrations import upgrade

    upgrade(settings.database_url, args.revision)
    print(f"database at {args.revision}")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from app.demo import load_demo

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            counts = await load_demo(session, clock.now())
        print(
            "demo coalition ready: "
            f"{counts['partners']} partners, {counts['brands']} brands, {counts['stores']} stores"
        )
        return 0

    return _run(settings, work)


def cmd_store_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.partners.service import list_stores

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            rows = await list_stores(session)
        for store, partner in rows:
            print(
                f"{store.code}\t{partner.name}\t{store.name}\t{store.city}\t"
                f"{store.country}\t{store.currency}"
            )
        return 0

    return _run(settings, work)


def cmd_ledger_check(args: argparse.Namespace, settings: Settings) -> int:
    from app.ledger.service import find_discrepancies

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            found = await find_discrepancies(session)
        if not found:
            print("ledger check: every cached balance matches its ledger")
            return 0
        print(f"ledger check: {len(found)} member(s) with a discrepancy", file=sys.stderr)
        for d in found:
            print(
                f"member {d.member_id}: cached {d.cached}, ledger {d.ledger}, lots {d.lots}",
                file=sys.stderr,
            )
        return 1

    return _run(settings, work)


def cmd_programme_set(args: argparse.Namespace, settings: Settings) -> int:
    from app.programme.service import update_programme

    changes: dict[str, Any] = {}
    if args.welcome_bonus is not None:
        changes["welcome_bonus_points"] = args.welcome_bonus
    if args.expiry_months is not None:
        changes["points_expiry_months"] = args.expiry_months
    if args.name is not None:
        changes["name"] = args.name

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            programme = await update_programme(session, **changes)
        print(
            f"programme {programme.name}: welcome bonus {programme.welcome_bonus_points}, "
            f"points expire after {programme.points_expiry_months} months"
        )
        return 0

    return _run(settings, work)


def cmd_schema_export(args: argparse.Namespace, settings: Settings) -> int:
    from graphql_schema import sdl

    for path in sdl.export(settings):
        print(path)
    return 0


def cmd_schema_check(args: argparse.Namespace, settings: Settings) -> int:
    from graphql_schema import sdl

    drifted = sdl.drifted(settings)
    for name in drifted:
        print(f"{sdl.snapshot_path(name)} differs from the code: run `make schema`")
    return 1 if drifted else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="happy", description="Happy coalition loyalty backend")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=cmd_serve)

    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    up = db.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="heads")
    up.set_defaults(handler=cmd_db_upgrade)

    demo = sub.add_parser("demo", help="load the demo coalition (idempotent)")
    demo.set_defaults(handler=cmd_demo)

    store = sub.add_parser("store", help="stores").add_subparsers(
        dest="store_command", required=True
    )
    store.add_parser("list", help="list stores, code first").set_defaults(handler=cmd_store_list)

    ledger = sub.add_parser("ledger", help="points ledger").add_subparsers(
        dest="ledger_command", required=True
    )
    ledger.add_parser("check", help="cached balances == ledger").set_defaults(
        handler=cmd_ledger_check
    )

    programme = sub.add_parser("programme", help="programme rules").add_subparsers(
        dest="programme_command", required=True
    )
    pset = programme.add_parser("set", help="change programme rules")
    pset.add_argument("--welcome-bonus", type=int)
    pset.add_argument("--expiry-months", type=int)
    pset.add_argument("--name")
    pset.set_defaults(handler=cmd_programme_set)

    schema = sub.add_parser("schema", help="GraphQL SDL snapshots").add_subparsers(
        dest="schema_command", required=True
    )
    schema.add_parser("export", help="write graphql_schema/*.graphql").set_defaults(
        handler=cmd_schema_export
    )
    schema.add_parser("check", help="exit 1 if the code drifted from them").set_defaults(
        handler=cmd_schema_check
    )
    from app.pos_cli import add_commands as add_pos_commands

    add_pos_commands(sub)
    from app.wallet.cli import add_wallet_commands

    add_wallet_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    return handler(args, settings)


if __name__ == "__main__":
    sys.exit(main())
