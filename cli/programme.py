"""``happy programme``: the programme's own rules (welcome bonus, points expiry, name)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from app.db import Database
from app.settings import Settings
from cli import arguments
from cli.context import run
from cli.errors import UsageError
from cli.money import format_money


@dataclass(frozen=True)
class _Threshold:
    amount: int | None  # EUR minor units; None: off


def _threshold(text: str) -> _Threshold:
    if text.strip().lower() == "off":
        return _Threshold(None)
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount of EUR or `off`") from None
    cents = value * 100
    if not value.is_finite() or value <= 0 or cents != cents.to_integral_value():
        raise argparse.ArgumentTypeError(
            f"must be an amount of EUR above 0 with at most 2 decimals, or `off`, not {text!r}"
        )
    if cents > arguments.MAX_INT:
        raise argparse.ArgumentTypeError(f"{text!r} is too large")
    return _Threshold(int(cents))


def cmd_programme_set(args: argparse.Namespace, settings: Settings) -> int:
    from app.programme.service import update_programme

    changes: dict[str, Any] = {}
    if args.welcome_bonus is not None:
        changes["welcome_bonus_points"] = args.welcome_bonus
    if args.expiry_months is not None:
        changes["points_expiry_months"] = args.expiry_months
    if args.point_value is not None:
        changes["point_value_micro_eur"] = args.point_value
    if args.name is not None:
        if not args.name.strip():
            raise UsageError("argument --name: the programme name cannot be empty")
        changes["name"] = args.name.strip()
    if args.redemption_threshold is not None:
        changes["redemption_confirmation_eur"] = args.redemption_threshold.amount
    if not changes:
        raise UsageError(
            "nothing to change: give --welcome-bonus, --expiry-months, --point-value, --name "
            "or --redemption-threshold; "
            "see `happy programme set --help`"
        )

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            programme = await update_programme(session, **changes)
        threshold = programme.redemption_confirmation_eur
        print(
            f"programme {programme.name}: welcome bonus {programme.welcome_bonus_points}, "
            f"points expire after {programme.points_expiry_months} months, "
            f"1 point = {programme.point_value_micro_eur} micro-EUR in settlement, "
            + (
                "no redemption needs an SMS code"
                if threshold is None
                else f"vouchers of {format_money(threshold, 'EUR')} or more need the "
                "member's SMS code"
            )
        )
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    programme = sub.add_parser("programme", help="programme rules").add_subparsers(
        dest="programme_command", required=True, metavar="COMMAND"
    )
    pset = programme.add_parser("set", help="change programme rules")
    pset.add_argument(
        "--welcome-bonus",
        type=arguments.non_negative_int,
        metavar="POINTS",
        help="points a new member gets once (0 turns the bonus off)",
    )
    pset.add_argument(
        "--expiry-months",
        type=arguments.non_negative_int,
        metavar="MONTHS",
        help="months after which earned points expire",
    )
    pset.add_argument(
        "--point-value",
        type=arguments.positive_int,
        metavar="MICRO_EUR",
        help="what one point is worth in settlement, in millionths of a euro (4800 = 0.48 cents)",
    )
    pset.add_argument("--name", help="the programme's name, as members see it")
    pset.add_argument(
        "--redemption-threshold",
        type=_threshold,
        metavar="EUR",
        help="vouchers worth this many EUR or more need the member's SMS code at the till "
        "(e.g. 9.60); `off`: none does",
    )
    pset.set_defaults(handler=cmd_programme_set)
