"""``happy member find|block|unblock`` and ``happy points adjust``: support tools.

Members are named by their public id or a card number, never an internal id; output is
masked (phone, name). Every command here that changes data is in the audit log."""

from __future__ import annotations

import argparse
from typing import Any

from app import clock
from app.db import Database
from app.settings import Settings, operator_name
from cli.context import run
from cli.table import print_table


def _signed_points(text: str) -> int:
    from app.members.support import MAX_ADJUSTMENT

    raw = text.strip()
    if not raw or raw[0] not in "+-" or not raw[1:].isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a signed whole number (+500, -120)")
    value = int(raw)
    if value == 0 or abs(value) > MAX_ADJUSTMENT:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_ADJUSTMENT} points either way")
    return value


def cmd_member_find(args: argparse.Namespace, settings: Settings) -> int:
    from app.members import support
    from app.runtime import build_runtime

    runtime = build_runtime(settings)

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            member = await support.find_member(session, runtime, phone=args.phone, card=args.card)
            view = await support.support_view(session, member)
        print_table(
            ("MEMBER", "PHONE", "NAME", "STATUS", "POINTS", "CARDS", "BLOCK REASON"),
            [
                (
                    view.public_id,
                    view.masked_phone,
                    view.masked_name,
                    view.status,
                    view.available,
                    " ".join(f"{c.number}({c.kind},{c.status})" for c in view.cards),
                    view.blocked_reason or "",
                )
            ],
        )
        return 0

    return run(settings, work)


def cmd_member_block(args: argparse.Namespace, settings: Settings) -> int:
    from app.members import support
    from app.support import blocks

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            member = await support.resolve_member(session, args.member)
            changed = await blocks.block(
                session, member.id, reason=args.reason, operator=operator_name(), now=clock.now()
            )
        print(f"member {member.public_id} {'blocked' if changed else 'was already blocked'}")
        return 0

    return run(settings, work)


def cmd_member_unblock(args: argparse.Namespace, settings: Settings) -> int:
    from app.members import support
    from app.support import blocks

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            member = await support.resolve_member(session, args.member)
            changed = await blocks.unblock(session, member.id, reason=args.reason)
        print(f"member {member.public_id} {'unblocked' if changed else 'was not blocked'}")
        return 0

    return run(settings, work)


def cmd_points_adjust(args: argparse.Namespace, settings: Settings) -> int:
    from app.members import support

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            adjusted = await support.adjust_points(
                session,
                args.member,
                delta=args.points,
                reason=args.reason,
                operator=operator_name(),
                now=clock.now(),
            )
        print(
            f"member {adjusted.public_id}: {adjusted.delta:+d} points, "
            f"balance {adjusted.balance_after}"
        )
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    member = sub.add_parser("member", help="support: find, block, unblock").add_subparsers(
        dest="member_command", required=True, metavar="COMMAND"
    )
    find = member.add_parser("find", help="one member by phone or card (masked output)")
    by = find.add_mutually_exclusive_group(required=True)
    by.add_argument("--phone", help="mobile number, any usual format")
    by.add_argument("--card", help="card number (digital or plastic)")
    find.set_defaults(handler=cmd_member_find)
    for name, handler, what in (
        ("block", cmd_member_block, "stop the member earning and spending points"),
        ("unblock", cmd_member_unblock, "lift a block"),
    ):
        command = member.add_parser(name, help=what)
        command.add_argument("member", metavar="MEMBER", help="public id or card number")
        command.add_argument("--reason", required=True, help="why (kept, 200 characters max)")
        command.set_defaults(handler=handler)


def register_points(points: Any) -> None:
    """``happy points adjust``, in the ``points`` group that ``cli.ledger`` makes."""
    adjust = points.add_parser(
        "adjust",
        help="an ADJUSTMENT ledger entry: +N credits, -N debits (never below zero)",
    )
    adjust.add_argument("member", metavar="MEMBER", help="public id or card number")
    adjust.add_argument("points", type=_signed_points, metavar="+N|-N", help="e.g. +500 or -120")
    adjust.add_argument("--reason", required=True, help="why (kept, 200 characters max)")
    adjust.set_defaults(handler=cmd_points_adjust)
