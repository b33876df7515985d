"""``happy wallet ...``: development certificates and outbox delivery."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from app.settings import Settings


def cmd_wallet_dev_certs(args: argparse.Namespace, settings: Settings) -> int:
    """Write a self-signed chain shaped like Apple's (root -> WWDR-like -> pass type cert)."""
    from wallet_passes.dev_certs import make_dev_chain

    if settings.is_production:
        print("refusing: development certificates are not for production")
        return 2
    out = Path(args.out) if args.out else settings.wallet_dev_dir
    chain = make_dev_chain(out, settings.apple_pass_type_id, settings.apple_team_id)
    print(f"development pass chain for {settings.apple_pass_type_id} in {out}:")
    for path in (chain.root_cert, chain.wwdr_cert, chain.pass_cert, chain.pass_key):
        print(f"  {path}")
    return 0


def cmd_wallet_push(args: argparse.Namespace, settings: Settings) -> int:
    """Deliver due outbox rows (APNs pushes, Google updates, ...); run from cron or a loop."""
    from app.main import open_database

    async def main() -> int:
        db, _runtime, dispatcher = open_database(settings)
        try:
            total = 0
            while True:
                report = await dispatcher.run_once(limit=args.batch)
                handled = report.done + report.dropped + report.superseded
                handled += report.retrying + report.failed
                total += handled
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
        finally:
            await db.dispose()

    return asyncio.run(main())


def add_wallet_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    wallet = sub.add_parser("wallet", help="digital card: passes and pushes").add_subparsers(
        dest="wallet_command", required=True
    )
    certs = wallet.add_parser("dev-certs", help="make a self-signed development pass chain")
    certs.add_argument("--out", help="folder (default: HAPPY_WALLET_DEV_DIR, var/wallet)")
    certs.set_defaults(handler=cmd_wallet_dev_certs)
    push = wallet.add_parser("push", help="deliver due APNs pushes and Google PATCHes")
    push.add_argument("--batch", type=int, default=200)
    push.set_defaults(handler=cmd_wallet_push)
