"""``happy fx set|list``: exchange rates (units of a currency per 1 EUR, from a day on)."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from app import clock
from app.db import Database
from app.settings import Settings
from cli import arguments
from cli.context import run


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _rate_text(rate: Any) -> str:
    text = format(rate, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def cmd_fx_set(args: argparse.Namespace, settings: Settings) -> int:
    from app.fx.service import programme_day, set_rate
    from app.programme.service import get_programme

    async def work(db: Database) -> int:
        now = clock.now()
        async with db.unit_of_work() as session:
            valid_from = args.valid_from
            if valid_from is None:
                valid_from = programme_day(now, (await get_programme(session)).timezone)
            row = await set_rate(
                session, currency=args.currency, rate=args.rate, valid_from=valid_from, now=now
            )
        print(
            f"1 EUR = {_rate_text(row.rate)} {row.currency} "
            f"from {row.valid_from.isoformat()} (programme time zone)"
        )
        return 0

    return run(settings, work)


def cmd_fx_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.fx.service import list_rates

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            rates = await list_rates(session, args.currency)
        if not rates:
            print("no exchange rates; set one with `happy fx set ALL 100.25 --from YYYY-MM-DD`")
        for row in rates:
            print(f"{row.currency}\t{_rate_text(row.rate)}\tfrom {row.valid_from.isoformat()}")
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    fx = sub.add_parser("fx", help="exchange rates (per 1 EUR)").add_subparsers(
        dest="fx_command", required=True, metavar="COMMAND"
    )
    fset = fx.add_parser(
        "set", help="set a currency's rate from a day on (replaces that day's rate)"
    )
    fset.add_argument("currency", type=arguments.currency, help="e.g. ALL or MKD")
    fset.add_argument("rate", help="units of the currency per 1 EUR, e.g. 100.25 (6 decimals)")
    fset.add_argument(
        "--from",
        dest="valid_from",
        type=_day,
        metavar="YYYY-MM-DD",
        help="first day the rate applies, in the programme's time zone (default: today)",
    )
    fset.set_defaults(handler=cmd_fx_set)
    flist = fx.add_parser("list", help="every rate, newest first per currency")
    flist.add_argument("currency", nargs="?", type=arguments.currency, help="only this one")
    flist.set_defaults(handler=cmd_fx_list)
