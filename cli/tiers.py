"""``happy tier set|list`` (tiers as programme data) and ``happy tiers review`` (nightly)."""

from __future__ import annotations

import argparse
from typing import Any

from app import clock
from app.db import Database
from app.settings import Settings
from cli import arguments
from cli.context import run


def cmd_tier_set(args: argparse.Namespace, settings: Settings) -> int:
    from app.tiers.service import set_tier

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            tier = await set_tier(
                session,
                code=args.code,
                name=args.name,
                threshold=args.threshold,
                earn_bonus_pct=args.earn_bonus,
                now=clock.now(),
                background_colour=args.background,
                foreground_colour=args.foreground,
                label_colour=args.label,
            )
        print(
            f"tier {tier.code} ({tier.name}): from {tier.threshold} points in 12 months, "
            f"+{tier.earn_bonus_pct} % points"
        )
        return 0

    return run(settings, work)


def cmd_tier_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.tiers.service import list_tiers

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            found = await list_tiers(session)
        for tier in found:
            print(f"{tier.code}\t{tier.name}\tfrom {tier.threshold}\t+{tier.earn_bonus_pct} %")
        return 0

    return run(settings, work)


def cmd_tiers_review(args: argparse.Namespace, settings: Settings) -> int:
    from app.tiers.service import review

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            report = await review(session, clock.now())
        print(
            f"tiers reviewed: {report.reviewed} periods ended, {report.kept} kept, "
            f"{report.moved_down} moved down, {report.moved_up} moved up"
        )
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    tier = sub.add_parser("tier", help="tiers (Happy, Happy+)").add_subparsers(
        dest="tier_command", required=True, metavar="COMMAND"
    )
    tset = tier.add_parser("set", help="create or change a tier")
    tset.add_argument("code", help="e.g. happy_plus")
    tset.add_argument("--name", required=True, help="as members see it, e.g. Happy+")
    tset.add_argument(
        "--threshold",
        type=arguments.non_negative_int,
        required=True,
        help="points earned in the last 12 months (net of returns) that qualify",
    )
    tset.add_argument(
        "--earn-bonus",
        type=arguments.non_negative_int,
        default=0,
        metavar="PERCENT",
        help="percentage points added to every earning line (25: 25 %% more points)",
    )
    tset.add_argument("--background", help="Apple pass colour, rgb(r, g, b)")
    tset.add_argument("--foreground", help="Apple pass colour, rgb(r, g, b)")
    tset.add_argument("--label", help="Apple pass colour, rgb(r, g, b)")
    tset.set_defaults(handler=cmd_tier_set)
    tier.add_parser("list", help="every tier").set_defaults(handler=cmd_tier_list)
    tiers = sub.add_parser("tiers", help="tier review").add_subparsers(
        dest="tiers_command", required=True, metavar="COMMAND"
    )
    tiers.add_parser(
        "review", help="move members whose tier period ended (run nightly)"
    ).set_defaults(handler=cmd_tiers_review)
