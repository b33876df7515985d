"""``happy db``: the database schema (Alembic migrations)."""

from __future__ import annotations

import argparse
from typing import Any

from app.settings import Settings


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from app.migrations import upgrade

    upgrade(settings.database_url, args.revision)
    print(f"database at {args.revision}")
    return 0


def register(sub: Any) -> None:
    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True, metavar="COMMAND"
    )
    up = db.add_parser("upgrade", help="apply migrations (safe to repeat)")
    up.add_argument(
        "revision", nargs="?", default="heads", help="Alembic revision to reach (%(default)s)"
    )
    up.set_defaults(handler=cmd_db_upgrade)
