"""``happy schema``: the committed GraphQL SDL snapshots."""

from __future__ import annotations

import argparse
from typing import Any

from app.settings import Settings


def cmd_schema_export(args: argparse.Namespace, settings: Settings) -> int:
    from graphql_schema import sdl

    for path in sdl.export(settings):
        print(path)
    return 0


def cmd_schema_check(args: argparse.Namespace, settings: Settings) -> int:
    from graphql_schema import sdl

    drifted = sdl.drifted(settings)
    for name in drifted:
        print(f"{sdl.snapshot_path(name)} differs from the code: run `make schema`")
    return 1 if drifted else 0


def register(sub: Any) -> None:
    schema = sub.add_parser("schema", help="GraphQL SDL snapshots").add_subparsers(
        dest="schema_command", required=True, metavar="COMMAND"
    )
    schema.add_parser("export", help="write graphql_schema/*.graphql").set_defaults(
        handler=cmd_schema_export
    )
    schema.add_parser("check", help="exit 1 if the code drifted from them").set_defaults(
        handler=cmd_schema_check
    )
