"""``happy kiosk``: kiosk tablets for stores (create with an enrolment code, list, revoke),
the stores' kiosk rules (check-in bonus, plays per day) and staff PINs."""

from __future__ import annotations

import argparse
from typing import Any

from app import clock
from app.db import Database
from app.settings import Settings
from cli import arguments
from cli.context import run
from cli.table import print_table


def cmd_kiosk_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.kiosks import service as kiosks
    from app.runtime import build_runtime
    from auth import kiosk_devices

    runtime = build_runtime(settings)

    async def work(db: Database) -> int:
        now = clock.now()
        async with db.unit_of_work() as session:
            kiosk, store = await kiosks.create_kiosk(
                session, store_code=args.store, label=args.label, now=now
            )
            code, expires_at = await kiosk_devices.create_enrolment_code(
                session, runtime, kiosk_id=kiosk.id, now=now
            )
        print(
            f"kiosk {kiosk.public_id} for store {store.code}: type this one-time code on "
            f"the tablet before {expires_at:%Y-%m-%d %H:%M} UTC:"
        )
        print(code)
        return 0

    return run(settings, work)


def cmd_kiosk_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.kiosks import service as kiosks

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            rows = await kiosks.list_kiosks(session)
        print_table(
            ("KIOSK", "STORE", "STATE", "DEVICE", "LABEL"),
            [
                (
                    kiosk.public_id,
                    store.code,
                    f"revoked {kiosk.revoked_at:%Y-%m-%d}"
                    if kiosk.revoked_at
                    else (f"enrolled {kiosk.enrolled_at:%Y-%m-%d}" if kiosk.enrolled_at else "new"),
                    kiosk.device_name or "",
                    kiosk.label or "",
                )
                for kiosk, store in rows
            ],
        )
        return 0

    return run(settings, work)


def cmd_kiosk_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from app.kiosks import service as kiosks

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            changed = await kiosks.revoke_kiosk(session, args.kiosk, clock.now())
        print(f"kiosk {args.kiosk} {'revoked' if changed else 'was already revoked'}")
        return 0

    return run(settings, work)


def cmd_kiosk_rules(args: argparse.Namespace, settings: Settings) -> int:
    from app.kiosks import service as kiosks

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            rules = await kiosks.set_store_rules(
                session,
                store_code=args.store,
                check_in_points=args.check_in_points,
                plays_per_day=args.plays_per_day,
                now=clock.now(),
            )
        print(
            f"{args.store}: check-in bonus {rules.check_in_points} points, "
            f"{rules.plays_per_day} play(s) per member per day"
        )
        return 0

    return run(settings, work)


def cmd_kiosk_pin(args: argparse.Namespace, settings: Settings) -> int:
    from app.kiosks import service as kiosks
    from app.runtime import build_runtime

    runtime = build_runtime(settings)

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            await kiosks.set_staff_pin(
                session, runtime, store_code=args.store, pin=args.pin, now=clock.now()
            )
        print(f"{args.store}: staff PIN set")
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    kiosk = sub.add_parser("kiosk", help="kiosk tablets in stores").add_subparsers(
        dest="kiosk_command", required=True, metavar="COMMAND"
    )
    create = kiosk.add_parser(
        "create", help="a kiosk for a store; prints its one-time enrolment code last"
    )
    create.add_argument("--store", required=True, help="store code (see `happy store list`)")
    create.add_argument("--label", help="where the tablet stands (at most 80 characters)")
    create.set_defaults(handler=cmd_kiosk_create)
    kiosk.add_parser("list", help="every kiosk with its store and state").set_defaults(
        handler=cmd_kiosk_list
    )
    revoke = kiosk.add_parser("revoke", help="stop a kiosk's tablet from acting, at once")
    revoke.add_argument("kiosk", help="kiosk id (see `happy kiosk list`)")
    revoke.set_defaults(handler=cmd_kiosk_revoke)
    rules = kiosk.add_parser("rules", help="a store's check-in bonus and plays per day")
    rules.add_argument("--store", required=True, help="store code")
    rules.add_argument(
        "--check-in-points",
        type=arguments.non_negative_int,
        help="points credited once per member per store per day",
    )
    rules.add_argument(
        "--plays-per-day",
        type=arguments.non_negative_int,
        help="wheel spins per member per day at this store",
    )
    rules.set_defaults(handler=cmd_kiosk_rules)
    pin = kiosk.add_parser("pin", help="set a store's staff PIN (4-8 digits) for hand-overs")
    pin.add_argument("--store", required=True, help="store code")
    pin.add_argument("--pin", required=True, help="4 to 8 digits, kept as a keyed hash")
    pin.set_defaults(handler=cmd_kiosk_pin)
