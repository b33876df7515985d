"""``happy``: the operator's command line, a door like the GraphQL ones (local access to the
database through the core's services).

One module per command group registers its commands with ``register(sub)``; :func:`main`
parses the command line, runs the command and is the one place that turns any failure into
one line on stderr and an exit code (2: usage or configuration, 1: failure).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from app.main import preflight
from app.settings import Settings, get_settings, load_settings
from cli import (
    audit,
    campaigns,
    cards,
    db,
    demo,
    fraud,
    fx,
    kiosks,
    ledger,
    members,
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
COMMAND_GROUPS += (cards, members, audit)  # the operator's toolbox (issue 14)
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
    _name_commands(parser)
    return parser


def _name_commands(parser: argparse.ArgumentParser) -> None:
    """Give every command its full name (``partner key create``) for the audit log."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                if "handler" in child._defaults:
                    child.set_defaults(command_path=child.prog.removeprefix("happy ").strip())
                _name_commands(child)


def _run_audited(args: argparse.Namespace, settings: Settings) -> int:
    """Run the command; if it changes data, append it to the operator audit log with its
    outcome, whether it succeeded or failed (see ``cli.audit``)."""
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    if not audit.changes_data(args):
        return handler(args, settings)
    try:
        code = handler(args, settings)
    except Exception as exc:
        outcome = explain(exc, args, settings.database_url).message
        # The database may be what failed: then the command's own error is what counts.
        with contextlib.suppress(Exception):
            audit.record_command(args, settings, f"failed: {outcome}")
        raise
    try:
        audit.record_command(args, settings, "ok" if code == 0 else f"exit {code}")
    except Exception as exc:
        reason = explain(exc, args, settings.database_url).message
        raise CliError(
            f"the command ran (exit {code}) but the audit log could not be written: {reason}"
        ) from exc
    return code


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
        return _run_audited(args, settings)
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
