"""``happy wallet``: development pass certificates and the wallet outbox delivery."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.db import Database
from app.settings import Settings
from cli import arguments
from cli.context import run
from cli.errors import UsageError


def cmd_wallet_dev_certs(args: argparse.Namespace, settings: Settings) -> int:
    """Write a self-signed chain shaped like Apple's (root -> WWDR-like -> pass type cert)."""
    from wallet_passes.dev_certs import make_dev_chain

    if settings.is_production:
        raise UsageError(
            "refusing: development certificates are not for production "
            "(set HAPPY_APPLE_PASS_CERT, HAPPY_APPLE_PASS_KEY and HAPPY_APPLE_WWDR_CERT)"
        )
    out = Path(args.out) if args.out else settings.wallet_dev_dir
    chain = make_dev_chain(out, settings.apple_pass_type_id, settings.apple_team_id)
    print(f"development pass chain for {settings.apple_pass_type_id} in {out}:")
    for path in (chain.root_cert, chain.wwdr_cert, chain.pass_cert, chain.pass_key):
        print(f"  {path}")
    return 0


def cmd_wallet_push(args: argparse.Namespace, settings: Settings) -> int:
    """Deliver due outbox rows (APNs pushes, Google updates, every after-commit
    subscriber's work); run from cron or a loop."""
    from app.events.delivery import Delivery

    async def work(db: Database) -> int:
        delivery = Delivery(db, db.events, in_background=False)
        while True:
            report = await delivery.run_once(limit=args.batch)
            handled = report.done + report.dropped + report.superseded
            handled += report.retrying + report.failed
            print(
                f"outbox: {report.done} delivered, {report.superseded} coalesced, "
                f"{report.dropped} dropped, {report.retrying} to retry, "
                f"{report.failed} failed"
            )
            for error in report.errors[:10]:
                print(f"  {error}")
            if handled < args.batch or report.retrying or report.failed:
                break
        return 0 if not report.failed else 1

    return run(settings, work)


def register(sub: Any) -> None:
    wallet = sub.add_parser("wallet", help="digital card: passes and pushes").add_subparsers(
        dest="wallet_command", required=True, metavar="COMMAND"
    )
    certs = wallet.add_parser("dev-certs", help="make a self-signed development pass chain")
    certs.add_argument("--out", help="folder (default: HAPPY_WALLET_DEV_DIR, var/wallet)")
    certs.set_defaults(handler=cmd_wallet_dev_certs)
    push = wallet.add_parser(
        "push", help="deliver the due outbox rows (APNs pushes, Google updates, ...)"
    )
    push.add_argument(
        "--batch",
        type=arguments.positive_int,
        default=200,
        metavar="ROWS",
        help="outbox rows per round (%(default)s); rounds repeat while full",
    )
    push.set_defaults(handler=cmd_wallet_push)
