"""``happy ledger check`` and ``happy points expire``: the points ledger's upkeep."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app import clock
from app.db import Database
from app.settings import Settings
from cli import members
from cli.context import run


def cmd_ledger_check(args: argparse.Namespace, settings: Settings) -> int:
    from app.ledger.service import Discrepancy, find_discrepancies

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            found = await find_discrepancies(session)
        if not found:
            print(
                "ledger check: every cached balance matches its ledger, "
                "every lot matches its consumptions"
            )
            return 0
        print(f"ledger check: {len(found)} discrepancy(ies)", file=sys.stderr)
        for d in found:
            if isinstance(d, Discrepancy):
                print(
                    f"member {d.member_id}: cached {d.cached}, ledger {d.ledger}, lots {d.lots}",
                    file=sys.stderr,
                )
            else:
                print(
                    f"member {d.member_id} lot {d.lot_id}: points {d.points}, consumed "
                    f"{d.consumed}, remaining {d.remaining}",
                    file=sys.stderr,
                )
        return 1

    return run(settings, work)


def cmd_points_expire(args: argparse.Namespace, settings: Settings) -> int:
    from app.ledger import expiry

    async def work(db: Database) -> int:
        now = clock.now()
        async with db.read_session() as session:
            member_ids = await expiry.members_with_expired_points(session, now)
        total = 0
        for member_id in member_ids:
            # One short transaction per member: a long run never holds many locks.
            async with db.unit_of_work() as session:
                total += await expiry.expire_member_points(session, member_id, now)
        print(f"points expired: {total} from {len(member_ids)} member(s)")
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    ledger = sub.add_parser("ledger", help="points ledger").add_subparsers(
        dest="ledger_command", required=True, metavar="COMMAND"
    )
    ledger.add_parser(
        "check", help="exit 1 with a report if a cached balance differs from its ledger"
    ).set_defaults(handler=cmd_ledger_check)

    points = sub.add_parser("points", help="points").add_subparsers(
        dest="points_command", required=True, metavar="COMMAND"
    )
    points.add_parser(
        "expire", help="expire points older than the programme allows (safe to repeat)"
    ).set_defaults(handler=cmd_points_expire)
    members.register_points(points)  # happy points adjust (support tools)
