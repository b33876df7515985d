"""``happy card batch create|list``: plastic cards issued in batches for print."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

from app import clock
from app.db import Database
from app.settings import Settings, operator_name
from cli import arguments
from cli.context import run
from cli.errors import UsageError
from cli.table import print_table


def _batch_count(text: str) -> int:
    from app.members.plastic_cards import MAX_BATCH

    value = arguments.positive_int(text)
    if value > MAX_BATCH:
        raise argparse.ArgumentTypeError(f"a batch holds at most {MAX_BATCH} cards, not {value}")
    return value


def cmd_card_batch_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.members import plastic_cards

    out: Path | None = args.out
    if out is not None and out.exists():
        raise UsageError(f"{out} exists already; choose a new file for the batch's CSV")
    if out is not None and not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: no directory {out.parent}")

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            batch = await plastic_cards.create_batch(
                session,
                count=args.count,
                prefix=args.prefix,
                operator=operator_name(),
                now=clock.now(),
            )
        # Written after the commit: a file never lists cards that do not exist.
        handle = out.open("x", newline="", encoding="utf-8") if out is not None else sys.stdout
        try:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(("batch", "card_number", "printed"))
            for number in batch.numbers:
                writer.writerow((batch.batch_id, number, plastic_cards.printed(number)))
        finally:
            if out is not None:
                handle.close()
        where = f" written to {out}" if out is not None else ""
        print(
            f"batch {batch.batch_id}: {batch.count} plastic card(s) with prefix "
            f"{batch.prefix}{where}",
            file=sys.stderr if out is None else sys.stdout,
        )
        return 0

    return run(settings, work)


def cmd_card_batch_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.members import plastic_cards

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            batches = await plastic_cards.list_batches(session)
        print_table(
            ("BATCH", "PREFIX", "CARDS", "LINKED", "OPERATOR", "CREATED (UTC)"),
            [
                (
                    b.batch_id,
                    b.prefix,
                    b.count,
                    b.linked,
                    b.operator,
                    f"{clock.as_utc(b.created_at):%Y-%m-%d %H:%M}",
                )
                for b in batches
            ],
        )
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    card = sub.add_parser("card", help="plastic cards").add_subparsers(
        dest="card_command", required=True, metavar="COMMAND"
    )
    batch = card.add_parser("batch", help="batches of plastic cards for print").add_subparsers(
        dest="batch_command", required=True, metavar="COMMAND"
    )
    create = batch.add_parser(
        "create", help="N new unassigned plastic cards; CSV of their numbers (stdout or --out)"
    )
    create.add_argument(
        "--count", type=_batch_count, required=True, metavar="N", help="1 to 100000 cards"
    )
    create.add_argument(
        "--prefix",
        help="4 to 6 digits the numbers start with (default 7002; never the digital prefix)",
    )
    create.add_argument("--out", type=Path, metavar="FILE", help="write the CSV here (new file)")
    create.set_defaults(handler=cmd_card_batch_create)
    batch.add_parser("list", help="every batch, newest first").set_defaults(
        handler=cmd_card_batch_list
    )
