"""``happy settlement report|close``: the month-end settlement between the programme and
its partners (docs/operations.md, "Month-end settlement")."""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import os
import sys
from typing import Any

from app import clock
from app.db import Database
from app.settings import Settings
from cli.context import run

COLUMNS = (
    ("points_issued", "points issued"),
    ("points_reversed", "points reversed"),
    ("points_transferred", "points transferred"),
    ("points_expired", "points expired"),
    ("points_spent", "points spent"),
    ("points_forfeited", "points forfeited"),
    ("vouchers_redeemed", "vouchers redeemed"),
)
MONEY = (
    ("vouchers_value_cents", "vouchers value EUR"),
    ("liability_cents", "liability EUR"),
    ("net_cents", "net EUR"),
)


def euros(cents: int) -> str:
    """EUR with 2 decimals, a minus sign for negative amounts (CSV and table)."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def _who(line: Any) -> tuple[str, str]:
    if line.kind == "partner":
        return line.partner_code or "", line.partner_name or ""
    return line.kind, "Programme" if line.kind == "programme" else "Totals"


def _header() -> list[str]:
    return ["partner", "name", *(h for _, h in COLUMNS), *(h for _, h in MONEY)]


def _cells(line: Any) -> list[str]:
    return [
        *_who(line),
        *(str(getattr(line, attr)) for attr, _ in COLUMNS),
        *(euros(getattr(line, attr)) for attr, _ in MONEY),
    ]


def _print_table(found: Any) -> None:
    state = (
        f"closed {found.closed_at.isoformat(timespec='seconds')}"
        if found.closed_at is not None
        else "open: computed now"
    )
    print(
        f"settlement {found.month} ({found.timezone}; {state}); "
        f"1 point = {found.point_value_micro_eur} micro-EUR"
    )
    rows = [_header(), *(_cells(line) for line in found.lines)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(
                cell.ljust(width) if i < 2 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
    print(
        f"tie-out: points in lots {found.outstanding_at_start} at the start, "
        f"{found.outstanding_at_end} at the end; change "
        f"{found.outstanding_at_end - found.outstanding_at_start} == totals "
        "issued - reversed - transferred - expired - spent - forfeited = "
        f"{found.totals.points_change}"
    )


def _as_json(found: Any) -> dict[str, Any]:
    def line(ln: Any) -> dict[str, Any]:
        return {
            "row": ln.kind,
            "partnerCode": ln.partner_code,
            "partnerName": ln.partner_name,
            **{attr: getattr(ln, attr) for attr, _ in COLUMNS},
            **{attr: getattr(ln, attr) for attr, _ in MONEY},
        }

    return {
        "month": found.month,
        "timezone": found.timezone,
        "startsAt": found.starts_at.isoformat(),
        "endsAt": found.ends_at.isoformat(),
        "closedAt": found.closed_at.isoformat() if found.closed_at else None,
        "pointValueMicroEur": found.point_value_micro_eur,
        "outstandingAtStart": found.outstanding_at_start,
        "outstandingAtEnd": found.outstanding_at_end,
        "rows": [line(ln) for ln in found.lines],
    }


def cmd_settlement_report(args: argparse.Namespace, settings: Settings) -> int:
    from app.settlement.service import report

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            found = await report(session, args.month, clock.now())
        if args.format == "csv":
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(_header())
            writer.writerows(_cells(line) for line in found.lines)
        elif args.format == "json":
            print(json.dumps(_as_json(found), indent=2))
        else:
            _print_table(found)
        return 0

    return run(settings, work)


def cmd_settlement_close(args: argparse.Namespace, settings: Settings) -> int:
    from app.settlement.service import close_month

    # Who closed the month is kept with it: HAPPY_OPERATOR, else the OS user.
    operator = os.environ.get("HAPPY_OPERATOR", "").strip() or getpass.getuser()

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            found = await close_month(session, args.month, now=clock.now(), closed_by=operator)
        totals = found.totals
        print(
            f"settlement {found.month} closed: {len(found.lines) - 2} partner(s), "
            f"points issued {totals.points_issued}, net {euros(totals.net_cents)} EUR; "
            "its report no longer changes"
        )
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    group = sub.add_parser("settlement", help="month-end settlement per partner").add_subparsers(
        dest="settlement_command", required=True, metavar="COMMAND"
    )
    rep = group.add_parser(
        "report", help="the month's settlement: stored if closed, computed if open"
    )
    rep.add_argument("--month", required=True, metavar="YYYY-MM", help="the month to report")
    rep.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="table (default), csv for finance (EUR with 2 decimals), json (EUR cents)",
    )
    rep.set_defaults(handler=cmd_settlement_report)
    close = group.add_parser(
        "close", help="store an ended month's report; later reports read the stored one"
    )
    close.add_argument("--month", required=True, metavar="YYYY-MM", help="the month to close")
    close.set_defaults(handler=cmd_settlement_close)
