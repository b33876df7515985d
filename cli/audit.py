"""The operator audit log: every ``happy`` command that changes data is recorded, once,
by the dispatcher (:func:`cli.main` calls :func:`record_command`); ``happy audit list``.

Which commands change data is declared here in one place (:data:`READ_ONLY`, by handler
name): anything not listed there is audited, so a new command is audited by default.
Arguments are stored without secrets: options named like a secret (``pin``) are replaced
by ``[redacted]`` and any bearer token (``hpk_<prefix>_<secret>``) keeps only its prefix.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import datetime
from typing import Any

from app import clock
from app.db import Database
from app.settings import Settings, operator_name
from cli import arguments
from cli.context import open_database, run
from cli.table import print_table

# Commands that read (or only touch files, or run a server): never audited.
READ_ONLY = frozenset(
    {
        "cmd_store_list",
        "cmd_partner_list",
        "cmd_key_list",
        "cmd_earn_list",
        "cmd_ledger_check",
        "cmd_tier_list",
        "cmd_level_list",
        "cmd_offer_list",
        "cmd_campaign_list",
        "cmd_messages_list",
        "cmd_kiosk_list",
        "cmd_prize_list",
        "cmd_wheel_list",
        "cmd_wheel_draws",
        "cmd_gateway_list",
        "cmd_card_batch_list",
        "cmd_member_find",
        "cmd_audit_list",
        "cmd_schema_export",
        "cmd_schema_check",
        "cmd_serve",
        "cmd_worker",
        "cmd_wallet_dev_certs",
        "cmd_limit_list",
        "cmd_fraud_alerts",
        "cmd_fx_list",
        "cmd_settlement_report",
        "cmd_offer_stats",
        "cmd_campaign_stats",
        # Not here: `ussd simulate` (a dialogue can register a member or claim a reward).
    }
)
# Argument names whose values are secrets.
SECRET_ARGUMENTS = frozenset({"pin", "secret", "password", "token", "sms_code"})
# Internal attributes of the parsed command line, not arguments.
INTERNAL = frozenset({"handler", "traceback", "command", "command_path"})
TOKEN = re.compile(r"\b([a-z]{3})_([0-9a-f]{10})_[A-Za-z0-9_\-]+")


def changes_data(args: argparse.Namespace) -> bool:
    handler = getattr(args, "handler", None)
    return handler is not None and getattr(handler, "__name__", "") not in READ_ONLY


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return TOKEN.sub(r"\1_\2_[redacted]", value)
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return _clean(str(value))


def audited_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The command's arguments as recorded: no internals, no secrets."""
    recorded: dict[str, Any] = {}
    for name, value in sorted(vars(args).items()):
        if name in INTERNAL or name.endswith("_command"):
            continue
        recorded[name] = "[redacted]" if name in SECRET_ARGUMENTS and value else _clean(value)
    return recorded


def record_command(args: argparse.Namespace, settings: Settings, outcome: str) -> None:
    """Append the command to the audit log (its own transaction, after the command).
    A failure to write it is said on stderr and makes the command fail (exit 1)."""
    from app.support import audit

    async def write() -> None:
        async with open_database(settings) as db:
            async with db.unit_of_work() as session:
                await audit.record(
                    session,
                    operator=operator_name(),
                    command=getattr(args, "command_path", args.command),
                    arguments=audited_arguments(args),
                    outcome=outcome,
                    now=clock.now(),
                )

    asyncio.run(write())


def _since(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or time (YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
        ) from None
    return clock.as_utc(value) if value.tzinfo is None else value


def cmd_audit_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.support import audit

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            entries = await audit.list_entries(
                session, since=args.since, operator=args.operator, limit=args.limit
            )
        print_table(
            ("WHEN (UTC)", "OPERATOR", "COMMAND", "OUTCOME", "ARGUMENTS"),
            [
                (
                    f"{clock.as_utc(e.at):%Y-%m-%d %H:%M:%S}",
                    e.operator,
                    e.command,
                    e.outcome,
                    " ".join(f"{k}={v}" for k, v in e.arguments.items() if v not in (None, False)),
                )
                for e in entries
            ],
        )
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    audit = sub.add_parser("audit", help="the operator audit log").add_subparsers(
        dest="audit_command", required=True, metavar="COMMAND"
    )
    listing = audit.add_parser("list", help="commands that changed data, newest first")
    listing.add_argument("--since", type=_since, help="from this date or time (UTC)")
    listing.add_argument("--operator", help="only this operator's commands")
    listing.add_argument(
        "--limit", type=arguments.positive_int, default=50, help="at most this many (1000 max)"
    )
    listing.set_defaults(handler=cmd_audit_list)


__all__ = ["changes_data", "record_command", "register"]
