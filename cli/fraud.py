"""``happy limit set|list`` (fraud limits as programme data) and ``happy fraud alerts|ack``."""

from __future__ import annotations

import argparse
import getpass
import os
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from app import clock
from app.db import Database
from app.errors import DomainError, ErrorCode
from app.fraud.models import LimitKind, Severity
from app.settings import Settings
from cli import arguments
from cli.context import run
from cli.errors import CliError
from cli.table import print_table


def operator_name() -> str:
    """Who runs the command: ``HAPPY_OPERATOR``, else the OS user (kept on acknowledgements)."""
    name = os.environ.get("HAPPY_OPERATOR", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return f"uid {os.getuid()}"


def cmd_limit_set(args: argparse.Namespace, settings: Settings) -> int:
    from app.fraud.service import remove_limit, set_limit

    if args.off == (args.value is not None):
        raise CliError("give either --value N or --off", exit_code=2)

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            if args.off:
                try:
                    await remove_limit(
                        session,
                        kind=args.kind,
                        severity=args.severity,
                        partner_code=args.partner,
                        store_code=args.store,
                    )
                except DomainError as exc:
                    if exc.code is ErrorCode.NOT_FOUND and exc.field == "limit":
                        raise CliError(
                            f"no {args.severity} limit on {args.kind} there; see `happy limit list`"
                        ) from exc
                    raise
                print(f"limit removed: {args.severity} {args.kind}")
                return 0
            view = await set_limit(
                session,
                kind=args.kind,
                severity=args.severity,
                value=args.value,
                partner_code=args.partner,
                store_code=args.store,
                now=clock.now(),
            )
        print(f"limit {view.id}: {view.severity} {view.kind} at most {view.value} ({view.scope})")
        return 0

    return run(settings, work)


def cmd_limit_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.fraud.service import list_limits

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            found = await list_limits(session)
        if not found:
            print("no fraud limits; set one with `happy limit set KIND --severity ... --value N`")
            return 0
        print_table(
            ("id", "kind", "severity", "at_most", "scope"),
            ((v.id, v.kind, v.severity, v.value, v.scope) for v in found),
        )
        return 0

    return run(settings, work)


def _since(text: str) -> date | datetime:
    """A day (YYYY-MM-DD, from its start in the programme's time zone) or a moment."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (2026-12-01) or a time (2026-12-01T08:00+01:00)"
        ) from None


def cmd_fraud_alerts(args: argparse.Namespace, settings: Settings) -> int:
    from app.fraud.service import list_alerts
    from app.programme.service import get_programme

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            since: datetime | None = None
            if args.since is not None:
                zone = ZoneInfo((await get_programme(session)).timezone)
                value = args.since
                if not isinstance(value, datetime):
                    value = datetime.combine(value, time(0), zone)
                elif value.tzinfo is None:
                    value = value.replace(tzinfo=zone)
                since = value
            found = await list_alerts(
                session,
                since=since,
                store_code=args.store,
                cashier_id=args.cashier,
                open_only=args.open,
                limit=args.limit,
            )
        if not found:
            print("no fraud alerts")
            return 0
        rows = []
        for view in found:
            alert = view.alert
            status = (
                "open"
                if alert.acknowledged_at is None
                else f"acknowledged by {alert.acknowledged_by} "
                f"{alert.acknowledged_at.isoformat(timespec='seconds')}"
            )
            rows.append(
                (
                    alert.id,
                    status,
                    alert.severity,
                    alert.kind,
                    alert.subject,
                    alert.period,
                    f"{alert.observed}>{alert.limit_value}",
                    alert.breaches,
                    alert.refused,
                    view.store_code,
                    alert.cashier_id,
                    alert.reference,
                    alert.last_at.isoformat(timespec="seconds"),
                )
            )
        print_table(
            (
                "id",
                "status",
                "severity",
                "kind",
                "subject",
                "period",
                "highest>limit",
                "breaches",
                "refused",
                "store",
                "cashier",
                "first_reference",
                "last_at",
            ),
            rows,
        )
        return 0

    return run(settings, work)


def cmd_fraud_ack(args: argparse.Namespace, settings: Settings) -> int:
    from app.fraud.service import acknowledge_alert

    async def work(db: Database) -> int:
        operator = operator_name()
        try:
            async with db.unit_of_work() as session:
                alert, changed = await acknowledge_alert(
                    session, args.id, operator=operator, now=clock.now()
                )
        except DomainError as exc:
            if exc.code is ErrorCode.NOT_FOUND:
                raise CliError(f"no fraud alert {args.id}; see `happy fraud alerts`") from exc
            raise
        if changed:
            print(f"alert {alert.id} acknowledged by {operator}")
        else:
            assert alert.acknowledged_at is not None
            print(
                f"alert {alert.id} was already acknowledged by {alert.acknowledged_by} "
                f"at {alert.acknowledged_at.isoformat(timespec='seconds')}"
            )
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    limit = sub.add_parser("limit", help="fraud limits (hard: refuse, soft: warn)").add_subparsers(
        dest="limit_command", required=True, metavar="COMMAND"
    )
    lset = limit.add_parser("set", help="create, change or (--off) remove a limit")
    lset.add_argument("kind", choices=[k.value for k in LimitKind], help="what is limited")
    lset.add_argument(
        "--severity",
        required=True,
        choices=[s.value for s in Severity],
        help="hard: refuse and alert; soft: let through, warn the till and alert",
    )
    lset.add_argument(
        "--value", type=arguments.positive_int, help="the most allowed (points or count)"
    )
    lset.add_argument("--off", action="store_true", help="remove this limit")
    scope = lset.add_mutually_exclusive_group()
    scope.add_argument("--partner", metavar="CODE", help="only this partner's stores")
    scope.add_argument("--store", metavar="CODE", help="only this store")
    lset.set_defaults(handler=cmd_limit_set)
    limit.add_parser("list", help="every fraud limit").set_defaults(handler=cmd_limit_list)

    fraud = sub.add_parser("fraud", help="fraud alerts").add_subparsers(
        dest="fraud_command", required=True, metavar="COMMAND"
    )
    alerts = fraud.add_parser("alerts", help="alerts raised by limits, newest first")
    alerts.add_argument("--since", type=_since, help="last breached on or after this day or time")
    alerts.add_argument("--store", metavar="CODE", help="at this store")
    alerts.add_argument("--cashier", metavar="ID", help="by this cashier id")
    alerts.add_argument("--open", action="store_true", help="only alerts not acknowledged")
    alerts.add_argument(
        "--limit", type=arguments.positive_int, default=200, help="at most this many (200)"
    )
    alerts.set_defaults(handler=cmd_fraud_alerts)
    ack = fraud.add_parser("ack", help="acknowledge an alert (HAPPY_OPERATOR or your user)")
    ack.add_argument("id", type=arguments.positive_int, help="the alert's id")
    ack.set_defaults(handler=cmd_fraud_ack)
