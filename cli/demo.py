"""``happy demo``: the demo coalition (partners, brands, stores, rules), idempotent."""

from __future__ import annotations

import argparse
from typing import Any

from app import clock
from app.db import Database
from app.settings import Settings
from cli.context import run


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from app.demo import load_demo, load_demo_offers
    from app.messages.campaigns import load_examples

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            counts = await load_demo(session, clock.now())
            await load_demo_offers(session, clock.now())
            campaigns = await load_examples(session, clock.now())
        print(
            "demo coalition ready: "
            f"{counts['partners']} partners, {counts['brands']} brands, {counts['stores']} stores"
        )
        if campaigns:
            print(f"example campaigns added: {campaigns} (see `happy campaign list`)")
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    demo = sub.add_parser("demo", help="load the demo coalition (idempotent)")
    demo.set_defaults(handler=cmd_demo)
