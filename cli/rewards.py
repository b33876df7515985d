"""``happy reward-level``: what members can claim for their points."""

from __future__ import annotations

import argparse
from typing import Any

from app import clock
from app.db import Database
from app.settings import Settings
from cli import arguments
from cli.context import run
from cli.money import format_money
from cli.table import print_table


def cmd_level_set(args: argparse.Namespace, settings: Settings) -> int:
    from app.rewards import service as rewards

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            level = await rewards.set_level(
                session,
                level=args.level,
                points=args.points,
                voucher_count=args.vouchers,
                voucher_value=args.value,
                currency=args.currency,
                active=not args.inactive,
                now=clock.now(),
                partner_code=args.partner,
            )
        print(
            f"level {level.level}: {level.points} points -> {level.voucher_count} x "
            f"{format_money(level.voucher_value, level.currency)}"
            + ("" if level.active else " (inactive)")
        )
        return 0

    return run(settings, work)


def cmd_level_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.rewards import service as rewards

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            levels = await rewards.list_levels(session)
        print_table(
            ("LEVEL", "POINTS", "VOUCHERS"),
            [
                (
                    level.level,
                    f"{level.points} points",
                    f"{level.voucher_count} x {format_money(level.voucher_value, level.currency)}",
                )
                for level in levels
            ],
        )
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    levels = sub.add_parser("reward-level", help="reward levels").add_subparsers(
        dest="level_command", required=True, metavar="COMMAND"
    )
    lset = levels.add_parser("set", help="create or change a level")
    lset.add_argument("level", type=arguments.positive_int, help="level number (1, 2, ...)")
    lset.add_argument(
        "--points", type=arguments.positive_int, required=True, help="points the level costs"
    )
    lset.add_argument(
        "--vouchers",
        type=arguments.positive_int,
        required=True,
        metavar="COUNT",
        help="vouchers a member gets for it",
    )
    lset.add_argument(
        "--value",
        type=arguments.positive_int,
        required=True,
        metavar="MINOR_UNITS",
        help="value of each voucher in minor units (400 = 4.00)",
    )
    lset.add_argument(
        "--currency", type=arguments.currency, default="EUR", help="voucher currency (%(default)s)"
    )
    lset.add_argument(
        "--partner", metavar="CODE", help="vouchers valid only at this partner (code)"
    )
    lset.add_argument(
        "--inactive", action="store_true", help="keep the level but let nobody claim it"
    )
    lset.set_defaults(handler=cmd_level_set)
    levels.add_parser("list", help="active levels").set_defaults(handler=cmd_level_list)
