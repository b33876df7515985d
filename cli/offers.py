"""``happy offer``: create offers from a file, list, pause, resume, stats."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app import clock
from app.db import Database
from app.settings import Settings
from cli import arguments
from cli.context import run
from cli.errors import UsageError


def cmd_offer_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.offers.definition import OfferFileError, load_text, parse_offer
    from app.offers.service import create_offer

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    try:
        definition = parse_offer(load_text(text))
    except OfferFileError as exc:
        raise UsageError(f"{path}: {exc.field}: {exc.reason}") from exc

    async def work(db: Database) -> int:
        try:
            async with db.unit_of_work() as session:
                offer = await create_offer(session, definition, clock.now())
        except OfferFileError as exc:
            raise UsageError(f"{path}: {exc.field}: {exc.reason}") from exc
        print(f"offer {offer.id} created: {offer.title_in('en')} ({offer.mechanic.value})")
        return 0

    return run(settings, work)


def cmd_offer_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.offers.service import list_offers

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            found = await list_offers(session)
        for offer in found:
            budget = (
                "-" if offer.budget_points is None else f"{offer.budget_left}/{offer.budget_points}"
            )
            print(
                f"{offer.id}\t{offer.status.value}\t{offer.mechanic.value}\t"
                f"{offer.starts_at.date()}..{offer.ends_at.date()}\tbudget {budget}\t"
                f"{offer.title_in('en')}"
            )
        return 0

    return run(settings, work)


def _status(args: argparse.Namespace, settings: Settings, status: str) -> int:
    from app.offers.models import OfferStatus
    from app.offers.service import set_status

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            offer = await set_status(session, args.id, OfferStatus(status), clock.now())
        print(f"offer {offer.id} {offer.status.value}")
        return 0

    return run(settings, work)


def cmd_offer_pause(args: argparse.Namespace, settings: Settings) -> int:
    return _status(args, settings, "paused")


def cmd_offer_resume(args: argparse.Namespace, settings: Settings) -> int:
    return _status(args, settings, "active")


def cmd_offer_stats(args: argparse.Namespace, settings: Settings) -> int:
    from app.offers.service import offer_stats

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            stats = await offer_stats(session, args.id)
        budget = (
            "no cap"
            if stats.budget_points is None
            else (f"{stats.budget_left} of {stats.budget_points} left")
        )
        print(
            f"offer {stats.offer_id}: {stats.points_awarded} points awarded on {stats.receipts} "
            f"receipts ({stats.points_reversed} taken back by returns), "
            f"{stats.members_reached} members reached, {stats.activations} activations, "
            f"budget {budget}"
        )
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    offer = sub.add_parser("offer", help="coalition offers").add_subparsers(
        dest="offer_command", required=True, metavar="COMMAND"
    )
    create = offer.add_parser("create", help="create an offer from a JSON or YAML file")
    create.add_argument("file", help="the offer file (see docs/offers.md)")
    create.set_defaults(handler=cmd_offer_create)
    listing = offer.add_parser("list", help="every offer")
    listing.set_defaults(handler=cmd_offer_list)
    for name, handler, text in (
        ("pause", cmd_offer_pause, "stop applying an offer (members stop seeing it)"),
        ("resume", cmd_offer_resume, "apply a paused offer again"),
        ("stats", cmd_offer_stats, "points awarded, members reached, budget left"),
    ):
        command = offer.add_parser(name, help=text)
        command.add_argument("id", type=arguments.positive_int, help="the offer id")
        command.set_defaults(handler=handler)
