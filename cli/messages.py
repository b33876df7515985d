"""``happy messages``: member messages as the operator sees them (dead letters, retry)."""

from __future__ import annotations

import argparse
from typing import Any

from app import clock
from app.db import Database
from app.settings import Settings
from cli import arguments
from cli.context import run
from cli.errors import CliError
from cli.table import print_table


def cmd_messages_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.messages import service

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            rows = await service.list_messages(session, failed_only=args.failed, limit=args.limit)
        print_table(
            ("id", "member", "kind", "channel", "status", "attempts", "created", "last error"),
            (
                (
                    m.id,
                    m.member_id,
                    m.kind,
                    m.channel.value,
                    m.status.value,
                    m.attempts,
                    m.created_at.isoformat(timespec="seconds"),
                    m.last_error,
                )
                for m in rows
            ),
        )
        return 0

    return run(settings, work)


def cmd_messages_retry(args: argparse.Namespace, settings: Settings) -> int:
    from app.errors import Conflict, NotFound
    from app.messages import service

    async def work(db: Database) -> int:
        try:
            async with db.unit_of_work() as session:
                message = await service.retry_message(session, args.id, clock.now())
        except NotFound as exc:
            raise CliError(f"no message {args.id}; see `happy messages list`") from exc
        except Conflict as exc:
            raise CliError(
                f"message {args.id} is {exc.params.get('status')}: only failed or cancelled "
                "messages with their text can be sent again"
            ) from exc
        print(f"message {message.id} queued again ({message.kind} by {message.channel.value})")
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    messages = sub.add_parser("messages", help="member messages").add_subparsers(
        dest="messages_command", required=True, metavar="COMMAND"
    )
    listing = messages.add_parser("list", help="the newest messages (dead letters: --failed)")
    listing.add_argument("--failed", action="store_true", help="only dead letters")
    listing.add_argument(
        "--limit", type=arguments.positive_int, default=50, help="rows (%(default)s)"
    )
    listing.set_defaults(handler=cmd_messages_list)
    retry = messages.add_parser("retry", help="send a dead letter (or a cancelled one) again")
    retry.add_argument(
        "id", type=arguments.positive_int, metavar="ID", help="the message's id (first column)"
    )
    retry.set_defaults(handler=cmd_messages_retry)
