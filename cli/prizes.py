"""``happy prize`` (a store's prize catalogue) and ``happy wheel`` (its wheel segments and
the audit of its draws)."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from app import clock
from app.db import Database
from app.settings import Settings
from cli import arguments
from cli.context import run
from cli.table import print_table


def cmd_prize_add(args: argparse.Namespace, settings: Settings) -> int:
    from app.prizes import service as prizes

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            prize = await prizes.add_prize(
                session,
                store_code=args.store,
                name=args.name,
                points_price=args.points,
                stock=args.stock,
                image=args.image,
                now=clock.now(),
            )
        print(
            f"prize {prize.public_id}: {prize.name}, {prize.points_price} points, "
            f"{prize.stock} in stock"
        )
        return 0

    return run(settings, work)


def cmd_prize_set(args: argparse.Namespace, settings: Settings) -> int:
    from app.prizes import service as prizes

    active = True if args.active else (False if args.inactive else None)

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            prize = await prizes.change_prize(
                session,
                args.prize,
                name=args.name,
                points_price=args.points,
                stock=args.stock,
                image=args.image,
                active=active,
                now=clock.now(),
            )
        state = "active" if prize.active else "inactive"
        print(
            f"prize {prize.public_id}: {prize.name}, {prize.points_price} points, "
            f"{prize.stock} in stock, {state}"
        )
        return 0

    return run(settings, work)


def cmd_prize_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.prizes import service as prizes

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            rows = await prizes.list_store_prizes(session, args.store)
        print_table(
            ("PRIZE", "NAME", "POINTS", "STOCK", "STATE"),
            [
                (p.public_id, p.name, p.points_price, p.stock, "active" if p.active else "inactive")
                for p in rows
            ],
        )
        return 0

    return run(settings, work)


def cmd_wheel_add(args: argparse.Namespace, settings: Settings) -> int:
    from app.prizes import service as prizes
    from app.prizes.models import SegmentKind

    segment = prizes.SegmentInput(
        label=args.label,
        kind=SegmentKind(args.kind),
        weight=args.weight,
        points=args.points,
        voucher_value=args.voucher_value,
        voucher_currency=args.currency,
        stock=args.stock,
        daily_points_budget=args.budget,
    )

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            row = await prizes.add_segment(
                session, store_code=args.store, segment=segment, now=clock.now()
            )
        print(f"segment {row.public_id}: {row.label} ({row.kind.value}), weight {row.weight}")
        return 0

    return run(settings, work)


def cmd_wheel_set(args: argparse.Namespace, settings: Settings) -> int:
    from app.prizes import service as prizes

    active = True if args.active else (False if args.inactive else None)

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            row = await prizes.change_segment(
                session,
                args.segment,
                weight=args.weight,
                stock=args.stock,
                unlimited_stock=args.unlimited_stock,
                daily_points_budget=args.budget,
                active=active,
                now=clock.now(),
            )
        print(f"segment {row.public_id}: {row.label}, weight {row.weight}, {_stock(row.stock)}")
        return 0

    return run(settings, work)


def _stock(stock: int | None) -> str:
    return "unlimited" if stock is None else f"{stock} in stock"


def cmd_wheel_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.prizes import service as prizes

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            rows = await prizes.list_store_segments(session, args.store)
        print_table(
            ("SEGMENT", "LABEL", "KIND", "WEIGHT", "PRIZE", "STOCK", "DAILY BUDGET", "STATE"),
            [
                (
                    s.public_id,
                    s.label,
                    s.kind.value,
                    s.weight,
                    s.points
                    if s.points is not None
                    else (f"{s.voucher_value} {s.voucher_currency}" if s.voucher_value else ""),
                    "unlimited" if s.stock is None else s.stock,
                    "unlimited" if s.daily_points_budget is None else s.daily_points_budget,
                    "active" if s.active else "inactive",
                )
                for s in rows
            ],
        )
        return 0

    return run(settings, work)


def cmd_wheel_draws(args: argparse.Namespace, settings: Settings) -> int:
    from app.prizes import service as prizes

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            day = args.day or await prizes.programme_day(session, clock.now())
            report = await prizes.draw_report(session, args.store, day)
        print(f"# {len(report.draws)} draw(s) at {report.store_code} on {report.day.isoformat()}")
        print_table(
            ("DRAW", "TIME", "OUTCOME", "KIND", "POINTS", "ROLL", "TOTAL WEIGHT", "ODDS IN FORCE"),
            [
                (
                    d.public_id,
                    f"{d.created_at:%H:%M:%S}",
                    d.label or "-",
                    d.kind.value,
                    d.points,
                    d.roll,
                    d.total_weight,
                    " ".join(f"{o['label']}={o['weight'] if o['eligible'] else 0}" for o in d.odds),
                )
                for d in report.draws
            ],
        )
        print()
        print_table(
            ("SEGMENT", "LABEL", "KIND", "CONFIGURED %", "OBSERVED", "OBSERVED %"),
            [
                (
                    f.segment,
                    f.label,
                    f.kind,
                    f"{100 * f.configured_share:.1f}",
                    f.observed,
                    f"{100 * f.observed_share:.1f}",
                )
                for f in report.frequencies
            ],
        )
        return 0

    return run(settings, work)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _state_flags(parser: Any) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--active", action="store_true", help="offer it again")
    group.add_argument("--inactive", action="store_true", help="stop offering it")


def register(sub: Any) -> None:
    prize = sub.add_parser("prize", help="a store's prize catalogue").add_subparsers(
        dest="prize_command", required=True, metavar="COMMAND"
    )
    add = prize.add_parser("add", help="a prize priced in points, with its stock")
    add.add_argument("--store", required=True, help="store code")
    add.add_argument("--name", required=True, help="shown on the kiosk")
    add.add_argument("--points", required=True, type=arguments.positive_int, help="price in points")
    add.add_argument(
        "--stock", required=True, type=arguments.non_negative_int, help="items in the store"
    )
    add.add_argument("--image", help="image URL or path shown on the kiosk")
    add.set_defaults(handler=cmd_prize_add)
    change = prize.add_parser("set", help="change a prize (stock is set, not added)")
    change.add_argument("prize", help="prize id (see `happy prize list`)")
    change.add_argument("--name", help="new name")
    change.add_argument("--points", type=arguments.positive_int, help="new price in points")
    change.add_argument("--stock", type=arguments.non_negative_int, help="items in the store now")
    change.add_argument("--image", help="image URL or path (empty: none)")
    _state_flags(change)
    change.set_defaults(handler=cmd_prize_set)
    listing = prize.add_parser("list", help="a store's prizes")
    listing.add_argument("--store", required=True, help="store code")
    listing.set_defaults(handler=cmd_prize_list)

    wheel = sub.add_parser("wheel", help="a store's prize wheel").add_subparsers(
        dest="wheel_command", required=True, metavar="COMMAND"
    )
    wadd = wheel.add_parser("add", help="a segment at the end of the store's wheel")
    wadd.add_argument("--store", required=True, help="store code")
    wadd.add_argument("--label", required=True, help="shown on the wheel")
    wadd.add_argument(
        "--kind",
        required=True,
        choices=("points", "voucher", "goods", "nothing"),
        help="what the segment gives",
    )
    wadd.add_argument(
        "--weight", required=True, type=arguments.non_negative_int, help="relative odds"
    )
    wadd.add_argument("--points", type=arguments.positive_int, help="points won (kind points)")
    wadd.add_argument("--voucher-value", type=arguments.positive_int, help="minor units")
    wadd.add_argument("--currency", type=arguments.currency, help="voucher currency")
    wadd.add_argument("--stock", type=arguments.non_negative_int, help="default: unlimited")
    wadd.add_argument(
        "--budget", type=arguments.non_negative_int, help="points per day (kind points)"
    )
    wadd.set_defaults(handler=cmd_wheel_add)
    wset = wheel.add_parser("set", help="change a segment's weight, stock, budget or state")
    wset.add_argument("segment", help="segment id (see `happy wheel list`)")
    wset.add_argument("--weight", type=arguments.non_negative_int, help="relative odds")
    wset.add_argument("--stock", type=arguments.non_negative_int, help="items left")
    wset.add_argument("--unlimited-stock", action="store_true", help="no stock limit")
    wset.add_argument(
        "--budget", type=arguments.non_negative_int, help="points per day (kind points)"
    )
    _state_flags(wset)
    wset.set_defaults(handler=cmd_wheel_set)
    wlist = wheel.add_parser("list", help="a store's wheel segments")
    wlist.add_argument("--store", required=True, help="store code")
    wlist.set_defaults(handler=cmd_wheel_list)
    draws = wheel.add_parser(
        "draws", help="a day's draws with the odds in force, observed vs configured shares"
    )
    draws.add_argument("--store", required=True, help="store code")
    draws.add_argument("--day", type=_day, help="YYYY-MM-DD (default: today)")
    draws.set_defaults(handler=cmd_wheel_draws)
