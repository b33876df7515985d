"""``happy ussd``: the USSD gateways' tokens, and a simulator of a handset for people.

``happy ussd simulate --phone +355...`` runs the USSD menus in the terminal against the
core (the same door code the callback uses, as gateway ``simulator``): type a choice, see
the next screen and how many of its 182 characters it uses. For support staff and demos.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from typing import Any, TextIO

from app import clock
from app.db import Database
from app.settings import Settings
from cli.context import run
from cli.errors import CliError
from cli.table import print_table

SIMULATOR_GATEWAY = "simulator"


def cmd_gateway_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.runtime import build_runtime
    from auth import ussd_gateways

    keys = build_runtime(settings).keys

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            issued = await ussd_gateways.create_gateway(
                session, keys, label=args.label, now=clock.now()
            )
        print(f"USSD gateway token {issued.prefix} (shown once, keep it safe):")
        print(issued.token)
        return 0

    return run(settings, work)


def cmd_gateway_list(args: argparse.Namespace, settings: Settings) -> int:
    from auth import ussd_gateways

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            rows = await ussd_gateways.list_gateways(session)
        print_table(
            ("PREFIX", "STATE", "LAST USED", "LABEL"),
            [
                (
                    gateway.prefix,
                    f"revoked {gateway.revoked_at:%Y-%m-%d}" if gateway.revoked_at else "active",
                    f"{gateway.last_used_at:%Y-%m-%d %H:%M}" if gateway.last_used_at else "never",
                    gateway.label or "",
                )
                for gateway in rows
            ],
        )
        if settings.ussd_gateway_token:
            print("(and the token in HAPPY_USSD_GATEWAY_TOKEN)")
        return 0

    return run(settings, work)


def cmd_gateway_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from app.errors import NotFound
    from auth import ussd_gateways

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            try:
                changed = await ussd_gateways.revoke_gateway(
                    session, prefix=args.prefix, now=clock.now()
                )
            except NotFound as exc:
                raise CliError(
                    f"no USSD gateway token {args.prefix}; see `happy ussd gateway list`"
                ) from exc
        print(f"gateway {args.prefix} {'revoked' if changed else 'was already revoked'}")
        return 0

    return run(settings, work)


def _show(screen_text: str, more: bool, out: TextIO) -> None:
    from web.ussd import gsm

    used, limit = gsm.units(screen_text)
    print("+" + "-" * 40, file=out)
    for line in screen_text.splitlines():
        print(f"| {line}", file=out)
    kind = "CON" if more else "END"
    print(f"+-- {kind}, {used}/{limit} characters", file=out)


def simulate(args: argparse.Namespace, settings: Settings, stdin: TextIO, out: TextIO) -> int:
    from app.members import service as members
    from app.runtime import build_runtime
    from web.ussd.africastalking import AfricasTalking
    from web.ussd.door import UssdDoor

    runtime = build_runtime(settings)
    phone = members.parse_phone(runtime, args.phone)
    session_id = f"sim-{secrets.token_hex(8)}"

    async def work(db: Database) -> int:
        door = UssdDoor(db, runtime, AfricasTalking())
        inputs: list[str] = []
        print(f"Dialling {args.code} from {phone} (empty line or Ctrl-D ends)", file=out)
        while True:
            text = "*".join(inputs)
            screen = await door.answer(SIMULATOR_GATEWAY, session_id, phone, text, tuple(inputs))
            _show(screen.text, screen.more, out)
            if not screen.more:
                return 0
            print("> ", end="", file=out, flush=True)
            line = stdin.readline()
            if not line or not line.strip():
                print("(session ended)", file=out)
                return 0
            if not stdin.isatty():
                print(line.strip(), file=out)  # piped keys: show them as if typed
            inputs.append(line.strip())

    return run(settings, work)


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    return simulate(args, settings, sys.stdin, sys.stdout)


def register(sub: Any) -> None:
    ussd = sub.add_parser("ussd", help="USSD gateways and a handset simulator").add_subparsers(
        dest="ussd_command", required=True, metavar="COMMAND"
    )
    gateway = ussd.add_parser("gateway", help="gateway tokens").add_subparsers(
        dest="gateway_command", required=True, metavar="COMMAND"
    )
    create = gateway.add_parser("create", help="new gateway token (printed once, last line)")
    create.add_argument("--label", help="a note to recognise it by (aggregator name), 80 max")
    create.set_defaults(handler=cmd_gateway_create)
    gateway.add_parser("list", help="gateway tokens, without secrets").set_defaults(
        handler=cmd_gateway_list
    )
    revoke = gateway.add_parser("revoke", help="revoke a token by its prefix (or whole token)")
    revoke.add_argument("prefix", help="the token's prefix from `happy ussd gateway list`")
    revoke.set_defaults(handler=cmd_gateway_revoke)
    sim = ussd.add_parser("simulate", help="run the USSD menus in the terminal as a handset")
    sim.add_argument("--phone", required=True, help="the handset's number, e.g. +355691234567")
    sim.add_argument("--code", default="*505#", help="the service code shown (default *505#)")
    sim.set_defaults(handler=cmd_simulate)
