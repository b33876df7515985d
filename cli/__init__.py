"""``happy``: the operator's command line, a door like the GraphQL ones (local access to the
database through the core's services).

One module per command group registers its commands with ``register(sub)``; :func:`main`
parses the command line, runs the command and is the one place that turns any failure into
one line on stderr and an exit code (2: usage or configuration, 1: failure).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from app.main import preflight
from app.settings import Settings, get_settings, load_settings
from cli import (
    campaigns,
    db,
    demo,
    fraud,
    fx,
    kiosks,
    ledger,
    messages,
    offers,
    partners,
    prizes,
    programme,
    receipts,
    rewards,
    schema,
    serve,
    settlement,
    tiers,
    ussd,
    wallet,
    worker,
)
from cli.errors import USAGE, CliError, UsageError, explain

COMMAND_GROUPS: tuple[Any, ...] = (serve, db, demo, partners, rewards, receipts, ledger)
COMMAND_GROUPS += (programme, schema, wallet, offers, tiers, ussd, kiosks, prizes)
COMMAND_GROUPS += (fx,)  # exchange rates (issue 14)
COMMAND_GROUPS += (fraud,)  # fraud limits and alerts (issue 14)
COMMAND_GROUPS += (settlement,)
MESSAGE_GROUPS = (worker, messages, campaigns)  # member messages and the worker


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (not the whole usage) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}; see `{self.prog} --help`")


def build_parser() -> Parser:
    parser = Parser(prog="happy", description="Happy coalition loyalty backend: operator CLI")
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="on an unexpected failure, show the Python traceback (for bug reports)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (*COMMAND_GROUPS, *MESSAGE_GROUPS):
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``happy`` command; its exit code."""
    args: argparse.Namespace | None = None
    settings: Settings | None = None
    try:
        args = build_parser().parse_args(argv)
        if args.handler is serve.cmd_serve:
            # The server names every configuration problem, settings and files, at once.
            settings = load_settings(check_production=False)
            preflight(settings)
        else:
            settings = get_settings()
        handler: Callable[[argparse.Namespace, Settings], int] = args.handler
        return handler(args, settings)
    except SystemExit as exc:  # --help, or uvicorn stopping
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else USAGE)
    except BrokenPipeError:  # `happy store list | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("happy: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        failure: CliError = explain(
            exc, args, settings.database_url if settings is not None else None
        )
        if args is not None and args.traceback and not isinstance(exc, CliError):
            traceback.print_exc()
        print(f"happy: {failure.message}", file=sys.stderr)
        return failure.exit_code


__all__ = ["build_parser", "main"]
