"""``happy`` commands of the partner POS work: API keys, earn rules, receipt batches,
points expiry, reward levels. ``app.cli`` registers them with :func:`add_commands`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app import clock
from app.db import Database
from app.errors import DomainError
from app.settings import Settings


def _run(settings: Settings, work: Any) -> int:
    from app.cli import _run as run

    try:
        result: int = run(settings, work)
    except DomainError as exc:
        print(
            f"error: {exc.code.value} {exc.field or ''} {exc.params or ''}".strip(), file=sys.stderr
        )
        return 1
    return result


def cmd_key_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.runtime import build_runtime
    from auth import api_keys

    keys = build_runtime(settings).keys

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            issued = await api_keys.create_key(
                session, keys, store_code=args.store, label=args.label, now=clock.now()
            )
        print(f"API key {issued.prefix} for store {issued.store_code} (shown once, keep it safe):")
        print(issued.key)
        return 0

    return _run(settings, work)


def cmd_key_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from auth import api_keys

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            changed = await api_keys.revoke_key(session, prefix=args.prefix, now=clock.now())
        print(f"key {args.prefix} {'revoked' if changed else 'was already revoked'}")
        return 0

    return _run(settings, work)


def cmd_key_list(args: argparse.Namespace, settings: Settings) -> int:
    from auth import api_keys

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            rows = await api_keys.list_keys(session)
        for key, store in rows:
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            print(f"{key.prefix}\t{store.code}\t{state}\tlast used {used}\t{key.label or ''}")
        return 0

    return _run(settings, work)


def cmd_earn_rate(args: argparse.Namespace, settings: Settings) -> int:
    from app.partners import earn_rules

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            rate = await earn_rules.set_rate(
                session,
                partner_code=args.partner,
                currency=args.currency,
                points=args.points,
                per_amount=args.per_amount,
                now=clock.now(),
            )
        print(
            f"{args.partner}: {rate.points} point(s) per {rate.per_amount} "
            f"{rate.currency} minor units"
        )
        return 0

    return _run(settings, work)


def cmd_earn_modifier(args: argparse.Namespace, settings: Settings) -> int:
    from app.partners import earn_rules
    from app.partners.earn_rule_models import ModifierKind

    kind = ModifierKind.BRAND if args.brand else ModifierKind.CATEGORY
    match = args.brand or args.category
    pct = None if args.remove else (0 if args.exclude else args.multiplier)
    if pct is None and not args.remove:
        print("give --multiplier PERCENT, --exclude or --remove", file=sys.stderr)
        return 2

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            await earn_rules.set_modifier(
                session,
                partner_code=args.partner,
                kind=kind,
                match=match,
                multiplier_pct=pct,
                now=clock.now(),
            )
        what = "removed" if pct is None else ("excluded" if pct == 0 else f"{pct} %")
        print(f"{args.partner} {kind.value} {match.lower()}: {what}")
        return 0

    return _run(settings, work)


def cmd_earn_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.partners import earn_rules

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            rates, modifiers = await earn_rules.list_rules(session)
        for partner, rate in rates:
            print(f"{partner.code}\trate\t{rate.currency}\t{rate.points} per {rate.per_amount}")
        for partner, modifier in modifiers:
            value = "excluded" if modifier.multiplier_pct == 0 else f"{modifier.multiplier_pct} %"
            print(f"{partner.code}\t{modifier.kind.value}\t{modifier.match}\t{value}")
        return 0

    return _run(settings, work)


def cmd_receipts_import(args: argparse.Namespace, settings: Settings) -> int:
    from app.callers import Channel
    from app.partners import service as partners
    from app.receipts.service import import_batch
    from app.runtime import build_runtime

    runtime = build_runtime(settings)
    content = Path(args.file).read_text(encoding="utf-8")

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            store = await partners.store_by_code(session, args.store)
            caller = None
            if store is not None:
                caller = await partners.store_caller(
                    session, store.id, channel=Channel.OPERATOR, limit_key="operator"
                )
            if caller is None:
                print(f"no active store {args.store}", file=sys.stderr)
                return 1
            reports = await import_batch(session, runtime, caller, content, now=clock.now())
        for report in reports:
            print(
                json.dumps(
                    {
                        "line": report.line,
                        "receiptId": report.receipt_id,
                        "status": report.status,
                        "reason": report.reason,
                        "pointsEarned": report.points_earned,
                    }
                )
            )
        counts = {
            s: sum(1 for r in reports if r.status == s)
            for s in ("accepted", "duplicate", "rejected")
        }
        print(
            f"{counts['accepted']} accepted, {counts['duplicate']} duplicate, "
            f"{counts['rejected']} rejected",
            file=sys.stderr,
        )
        # Non-zero when a line needs attention, so a scheduled upload can alert.
        return 1 if counts["rejected"] else 0

    return _run(settings, work)


def cmd_points_expire(args: argparse.Namespace, settings: Settings) -> int:
    from app.ledger import expiry

    async def work(db: Database) -> int:
        now = clock.now()
        async with db.read_session() as session:
            member_ids = await expiry.members_with_expired_points(session, now)
        total = 0
        for member_id in member_ids:
            # One short transaction per member: a long run never holds many locks.
            async with db.unit_of_work() as session:
                total += await expiry.expire_member_points(session, member_id, now)
        print(f"points expired: {total} from {len(member_ids)} member(s)")
        return 0

    return _run(settings, work)


def cmd_level_set(args: argparse.Namespace, settings: Settings) -> int:
    from app.rewards import service as rewards

    async def work(db: Database) -> int:
        async with db.unit_of_work() as session:
            level = await rewards.set_level(
                session,
                level=args.level,
                points=args.points,
                voucher_count=args.vouchers,
                voucher_value=args.value,
                currency=args.currency,
                active=not args.inactive,
                now=clock.now(),
                partner_code=args.partner,
            )
        print(
            f"level {level.level}: {level.points} points -> {level.voucher_count} x "
            f"{level.voucher_value} {level.currency} minor units"
            + ("" if level.active else " (inactive)")
        )
        return 0

    return _run(settings, work)


def cmd_level_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.rewards import service as rewards

    async def work(db: Database) -> int:
        async with db.read_session() as session:
            levels = await rewards.list_levels(session)
        for level in levels:
            print(
                f"{level.level}\t{level.points} points\t{level.voucher_count} x "
                f"{level.voucher_value} {level.currency}"
            )
        return 0

    return _run(settings, work)


def add_commands(sub: Any) -> None:
    """Register the commands on the ``happy`` parser's subparsers."""
    partner = sub.add_parser("partner", help="partner API keys").add_subparsers(
        dest="partner_command", required=True
    )
    key = partner.add_parser("key", help="API keys of stores").add_subparsers(
        dest="key_command", required=True
    )
    create = key.add_parser("create", help="new key for a store (printed once, last line)")
    create.add_argument("--store", required=True)
    create.add_argument("--label")
    create.set_defaults(handler=cmd_key_create)
    revoke = key.add_parser("revoke", help="revoke a key by its prefix (or the whole key)")
    revoke.add_argument("prefix")
    revoke.set_defaults(handler=cmd_key_revoke)
    key.add_parser("list", help="keys, without secrets").set_defaults(handler=cmd_key_list)

    earn = sub.add_parser("earn-rule", help="earn rules per partner").add_subparsers(
        dest="earn_command", required=True
    )
    rate = earn.add_parser("rate", help="base rate: POINTS per PER_AMOUNT minor units")
    rate.add_argument("--partner", required=True)
    rate.add_argument("--currency", required=True)
    rate.add_argument("--points", type=int, required=True)
    rate.add_argument("--per-amount", type=int, required=True)
    rate.set_defaults(handler=cmd_earn_rate)
    modifier = earn.add_parser("set", help="brand or category multiplier or exclusion")
    modifier.add_argument("--partner", required=True)
    target = modifier.add_mutually_exclusive_group(required=True)
    target.add_argument("--brand")
    target.add_argument("--category")
    value = modifier.add_mutually_exclusive_group(required=True)
    value.add_argument("--multiplier", type=int, help="percent: 200 = double points")
    value.add_argument("--exclude", action="store_true")
    value.add_argument("--remove", action="store_true")
    modifier.set_defaults(handler=cmd_earn_modifier)
    earn.add_parser("list", help="all rates and modifiers").set_defaults(handler=cmd_earn_list)

    receipts = sub.add_parser("receipts", help="receipts").add_subparsers(
        dest="receipts_command", required=True
    )
    imp = receipts.add_parser("import", help="offline batch: JSON lines, per-line report")
    imp.add_argument("file")
    imp.add_argument("--store", required=True)
    imp.set_defaults(handler=cmd_receipts_import)

    points = sub.add_parser("points", help="points").add_subparsers(
        dest="points_command", required=True
    )
    points.add_parser("expire", help="expire points older than the programme allows").set_defaults(
        handler=cmd_points_expire
    )

    levels = sub.add_parser("reward-level", help="reward levels").add_subparsers(
        dest="level_command", required=True
    )
    lset = levels.add_parser("set", help="create or change a level")
    lset.add_argument("level", type=int)
    lset.add_argument("--points", type=int, required=True)
    lset.add_argument("--vouchers", type=int, required=True)
    lset.add_argument("--value", type=int, required=True, help="minor units per voucher")
    lset.add_argument("--currency", default="EUR")
    lset.add_argument("--partner", help="vouchers valid only at this partner (code)")
    lset.add_argument("--inactive", action="store_true")
    lset.set_defaults(handler=cmd_level_set)
    levels.add_parser("list", help="active levels").set_defaults(handler=cmd_level_list)
