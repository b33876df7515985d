"""``happy campaign``: create campaigns from a file, list, pause, resume, statistics."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app import clock
from app.db import Database
from app.errors import InvalidInput
from app.settings import Settings
from cli.context import run
from cli.errors import CliError, UsageError
from cli.table import print_table


def _read_definition(path: Path) -> Any:
    from app.messages.campaigns import parse_definition

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return parse_definition(text, toml=path.suffix.lower() == ".toml")
    except InvalidInput as exc:
        reason = exc.params.get("reason")
        limits = (
            f" (from {exc.params['low']} to {exc.params['high']})" if "low" in exc.params else ""
        )
        detail = f": {reason}" if reason else limits
        raise UsageError(
            f"{path}: field {exc.field!r} is not valid{detail}; see docs/messages.md"
        ) from exc


def cmd_campaign_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.messages import campaigns

    definition = _read_definition(Path(args.file))

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            campaign = await campaigns.create_campaign(session, definition, clock.now())
        when = campaign.send_at.isoformat() if campaign.send_at else f"trigger {campaign.trigger}"
        print(
            f"campaign {campaign.code} (#{campaign.id}) created: {campaign.channel.value}, {when}"
        )
        return 0

    return run(settings, work)


def cmd_campaign_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.messages import campaigns

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            rows = await campaigns.list_campaigns(session)
        print_table(
            ("id", "code", "status", "trigger", "channel", "template", "bonus", "spent", "budget"),
            (
                (
                    c.id,
                    c.code,
                    c.status.value,
                    c.trigger,
                    c.channel.value,
                    c.template,
                    c.bonus_points,
                    c.spent_points,
                    c.budget_points,
                )
                for c in rows
            ),
        )
        return 0

    return run(settings, work)


async def _find(session: Any, ref: str) -> Any:
    from app.errors import NotFound
    from app.messages import campaigns

    try:
        return await campaigns.find_campaign(session, ref)
    except NotFound as exc:
        raise CliError(f"no campaign {ref}; see `happy campaign list`") from exc


def _set_status(args: argparse.Namespace, settings: Settings, status_name: str) -> int:
    from app.messages import campaigns
    from app.messages.models import CampaignStatus

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            await _find(session, args.id)
            campaign = await campaigns.set_status(session, args.id, CampaignStatus(status_name))
        print(f"campaign {campaign.code}: {campaign.status.value}")
        return 0

    return run(settings, work)


def cmd_campaign_pause(args: argparse.Namespace, settings: Settings) -> int:
    return _set_status(args, settings, "paused")


def cmd_campaign_resume(args: argparse.Namespace, settings: Settings) -> int:
    return _set_status(args, settings, "active")


def cmd_campaign_stats(args: argparse.Namespace, settings: Settings) -> int:
    from app.messages import campaigns

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            campaign = await _find(session, args.id)
            found = await campaigns.stats(session, campaign)
        print(f"campaign {campaign.code} ({campaign.status.value})")
        for name, value in (
            ("targeted", found.targeted),
            ("sent", found.sent),
            ("waiting", found.pending),
            ("failed", found.failed),
            ("opted out", found.opted_out),
            ("cancelled", found.cancelled),
            ("opened", found.opened),
            (f"converted (receipt within {campaign.conversion_days} days)", found.converted),
            ("bonus points given", found.bonus_points),
        ):
            print(f"  {name}: {value}")
        return 0

    return run(settings, work)


def register(sub: Any) -> None:
    campaign = sub.add_parser("campaign", help="marketing campaigns").add_subparsers(
        dest="campaign_command", required=True, metavar="COMMAND"
    )
    create = campaign.add_parser("create", help="create a campaign from a JSON or TOML file")
    create.add_argument("file", metavar="FILE", help="the campaign file (docs/messages.md)")
    create.set_defaults(handler=cmd_campaign_create)
    campaign.add_parser("list", help="every campaign").set_defaults(handler=cmd_campaign_list)
    for name, handler, text in (
        ("pause", cmd_campaign_pause, "stop sending (queued messages still go)"),
        ("resume", cmd_campaign_resume, "start sending again"),
        ("stats", cmd_campaign_stats, "targeted, sent, failed, opted out, opened, converted"),
    ):
        command = campaign.add_parser(name, help=text)
        command.add_argument("id", metavar="ID", help="the campaign's code or number")
        command.set_defaults(handler=handler)
