"""Campaigns: who (a segment), what (a template, optional bonus points with a budget),
which channel, when (a scheduled time or a built-in trigger), and what came of it.

A campaign file (JSON, or TOML by its extension) is validated whole before it is
stored; docs/messages.md has examples. Triggers, run by the ``campaigns`` job of
``happy worker`` (each member in its own short transaction, every step keyed, so a run
repeated or interrupted makes no second message and no second bonus):

- ``scheduled``: once, at ``send_at``, to the segment;
- ``birthday``: on the member's birthday in their time zone; the bonus once per member
  per year (ledger key ``campaign:<id>:<year>:<member>``);
- ``reward_within_reach``: within ``within_points`` of the next reward level, at most
  once per level per month;
- ``dormant``: no receipt for ``dormant_days``, once per dormant stretch.

Bonus points are the programme's gift, not a message: members in the segment get them
whatever their consents (consent governs only the message). The budget is spent by a
guarded ``UPDATE`` in the bonus's transaction: it is never exceeded.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, exists, extract, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from app.errors import InvalidInput, NotFound
from app.ledger import service as ledger
from app.ledger.models import EntryKind, PointsAccount
from app.members.models import Member, MemberStatus
from app.messages import service
from app.messages.models import (
    Campaign,
    CampaignStatus,
    Category,
    Channel,
    MemberMessage,
    MessageStatus,
)
from app.messages.rules import member_zone
from app.messages.templates import TEMPLATES
from app.partners.models import Partner
from app.programme.service import get_programme, points_expire_at
from app.receipts.models import Receipt
from app.rewards import service as rewards
from app.support import blocks

TRIGGERS = ("scheduled", "birthday", "reward_within_reach", "dormant")
SEGMENT_KEYS = {
    "new_within_days",
    "birthday_month",
    "city",
    "dormant_days",
    "balance_min",
    "balance_max",
    "last_purchase_partner",
}
FILE_KEYS = {
    "code",
    "name",
    "channel",
    "template",
    "trigger",
    "send_at",
    "segment",
    "bonus_points",
    "budget_points",
    "conversion_days",
    "within_points",
    "dormant_days",
}


@dataclass(frozen=True)
class Segment:
    new_within_days: int | None = None
    birthday_month: int | None = None
    city: str | None = None
    dormant_days: int | None = None
    balance_min: int | None = None
    balance_max: int | None = None
    last_purchase_partner: str | None = None


@dataclass(frozen=True)
class CampaignDefinition:
    code: str
    name: str
    channel: Channel
    template: str
    trigger: str
    segment: Segment = field(default_factory=Segment)
    send_at: datetime | None = None
    bonus_points: int = 0
    budget_points: int | None = None
    conversion_days: int = 14
    within_points: int = 300
    dormant_days: int = 90

    def to_json(self) -> str:
        data = asdict(self)
        data["channel"] = self.channel.value
        data["send_at"] = self.send_at.isoformat() if self.send_at else None
        return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _int(data: dict[str, Any], key: str, default: int | None, low: int, high: int) -> int | None:
    value = data.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(field=key, low=low, high=high)
    return value


def parse_definition(text: str, *, toml: bool = False) -> CampaignDefinition:
    """A campaign file checked whole; :class:`InvalidInput` names the first bad field."""
    try:
        data = tomllib.loads(text) if toml else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(field="file", reason=str(exc)[:200]) from exc
    if not isinstance(data, dict):
        raise InvalidInput(field="file", reason="not an object")
    unknown = set(data) - FILE_KEYS
    if unknown:
        raise InvalidInput(field=sorted(unknown)[0], reason="unknown field")
    code = data.get("code")
    if not isinstance(code, str) or not code.strip() or len(code) > 60:
        raise InvalidInput(field="code")
    name = data.get("name", code)
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        raise InvalidInput(field="name")
    try:
        channel = Channel(str(data.get("channel")))
    except ValueError as exc:
        raise InvalidInput(field="channel") from exc
    template = data.get("template")
    if template not in TEMPLATES or TEMPLATES[template].category is not Category.MARKETING:
        raise InvalidInput(field="template", reason="a marketing template")
    trigger = data.get("trigger", "scheduled")
    if trigger not in TRIGGERS:
        raise InvalidInput(field="trigger")
    send_at = None
    if trigger == "scheduled":
        raw = data.get("send_at")
        try:
            send_at = datetime.fromisoformat(str(raw)) if raw else None
        except ValueError as exc:
            raise InvalidInput(field="send_at") from exc
        if send_at is None or send_at.tzinfo is None:
            raise InvalidInput(field="send_at", reason="a time with its UTC offset")
    raw_segment = data.get("segment", {})
    if not isinstance(raw_segment, dict) or set(raw_segment) - SEGMENT_KEYS:
        raise InvalidInput(field="segment")
    city = raw_segment.get("city")
    partner = raw_segment.get("last_purchase_partner")
    if city is not None and (not isinstance(city, str) or not city.strip()):
        raise InvalidInput(field="segment.city")
    if partner is not None and (not isinstance(partner, str) or not partner.strip()):
        raise InvalidInput(field="segment.last_purchase_partner")
    segment = Segment(
        new_within_days=_int(raw_segment, "new_within_days", None, 1, 3650),
        birthday_month=_int(raw_segment, "birthday_month", None, 1, 12),
        city=city,
        dormant_days=_int(raw_segment, "dormant_days", None, 1, 3650),
        balance_min=_int(raw_segment, "balance_min", None, 0, 10**12),
        balance_max=_int(raw_segment, "balance_max", None, 0, 10**12),
        last_purchase_partner=partner,
    )
    bonus = _int(data, "bonus_points", 0, 0, 1_000_000) or 0
    needed = TEMPLATES[template].fields() - {"first_name", "balance", "bonus", "missing"}
    needed -= {"vouchers"}
    if needed:
        raise InvalidInput(field="template", reason=f"needs {sorted(needed)}")
    if {"missing", "vouchers"} & TEMPLATES[template].fields() and trigger != "reward_within_reach":
        raise InvalidInput(field="template", reason="only for reward_within_reach")
    if "bonus" in TEMPLATES[template].fields() and bonus == 0:
        raise InvalidInput(field="bonus_points", reason="the template names the bonus")
    return CampaignDefinition(
        code=code.strip(),
        name=name.strip(),
        channel=channel,
        template=template,
        trigger=trigger,
        segment=segment,
        send_at=send_at,
        bonus_points=bonus,
        budget_points=_int(data, "budget_points", None, 1, 10**12),
        conversion_days=_int(data, "conversion_days", 14, 1, 365) or 14,
        within_points=_int(data, "within_points", 300, 1, 10**9) or 300,
        dormant_days=_int(data, "dormant_days", 90, 1, 3650) or 90,
    )


def definition_of(campaign: Campaign) -> CampaignDefinition:
    data = json.loads(campaign.definition)
    data["segment"] = Segment(**data["segment"])
    data["channel"] = Channel(data["channel"])
    data["send_at"] = datetime.fromisoformat(data["send_at"]) if data["send_at"] else None
    return CampaignDefinition(**data)


async def create_campaign(
    session: AsyncSession, definition: CampaignDefinition, now: datetime
) -> Campaign:
    """Store a campaign (a code already used is a conflict)."""
    if definition.segment.last_purchase_partner is not None:
        await _partner_id(session, definition.segment.last_purchase_partner)
    existing = await session.scalar(select(Campaign).where(Campaign.code == definition.code))
    if existing is not None:
        raise InvalidInput(field="code", reason="already used")
    campaign = Campaign(
        code=definition.code,
        name=definition.name,
        trigger=definition.trigger,
        channel=definition.channel,
        template=definition.template,
        definition=definition.to_json(),
        bonus_points=definition.bonus_points,
        budget_points=definition.budget_points,
        spent_points=0,
        conversion_days=definition.conversion_days,
        send_at=definition.send_at,
        status=CampaignStatus.ACTIVE,
        created_at=now,
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def _partner_id(session: AsyncSession, code: str) -> int:
    partner_id = await session.scalar(select(Partner.id).where(Partner.code == code))
    if partner_id is None:
        raise NotFound(field="partner", partner=code)
    return partner_id


async def find_campaign(session: AsyncSession, ref: str) -> Campaign:
    """By code, or by number."""
    campaign = await session.scalar(select(Campaign).where(Campaign.code == ref))
    if campaign is None and ref.isdigit():
        campaign = await session.get(Campaign, int(ref))
    if campaign is None:
        raise NotFound(field="campaign", campaign=ref)
    return campaign


async def list_campaigns(session: AsyncSession) -> list[Campaign]:
    return list((await session.scalars(select(Campaign).order_by(Campaign.id))).all())


async def set_status(session: AsyncSession, ref: str, status: CampaignStatus) -> Campaign:
    campaign = await find_campaign(session, ref)
    if campaign.status is not CampaignStatus.DONE:
        campaign.status = status
    await session.flush()
    return campaign


# --- who ----------------------------------------------------------------------------------


async def segment_query(session: AsyncSession, segment: Segment, now: datetime) -> Select[Any]:
    """The active members in ``segment`` (their ids)."""
    stmt = select(Member.id).where(Member.status == MemberStatus.ACTIVE)
    if segment.new_within_days is not None:
        stmt = stmt.where(Member.created_at >= now - timedelta(days=segment.new_within_days))
    if segment.birthday_month is not None:
        stmt = stmt.where(extract("month", Member.birth_date) == segment.birthday_month)
    if segment.city is not None:
        stmt = stmt.where(func.lower(Member.city) == segment.city.strip().lower())
    if segment.dormant_days is not None:
        since = now - timedelta(days=segment.dormant_days)
        recent = exists().where(Receipt.member_id == Member.id, Receipt.created_at >= since)
        stmt = stmt.where(~recent, Member.created_at < since)
    if segment.balance_min is not None or segment.balance_max is not None:
        stmt = stmt.join(PointsAccount, PointsAccount.member_id == Member.id)
        if segment.balance_min is not None:
            stmt = stmt.where(PointsAccount.available >= segment.balance_min)
        if segment.balance_max is not None:
            stmt = stmt.where(PointsAccount.available <= segment.balance_max)
    if segment.last_purchase_partner is not None:
        partner_id = await _partner_id(session, segment.last_purchase_partner)
        last_partner = (
            select(Receipt.partner_id)
            .where(Receipt.member_id == Member.id)
            .order_by(Receipt.issued_at.desc(), Receipt.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        stmt = stmt.where(last_partner == partner_id)
    return stmt.order_by(Member.id)


# --- running ------------------------------------------------------------------------------


@dataclass
class RunReport:
    queued: int = 0
    bonuses: int = 0

    def add(self, other: RunReport) -> None:
        self.queued += other.queued
        self.bonuses += other.bonuses


class CampaignRunner:
    """Runs the active campaigns whose time has come (the worker's ``campaigns`` job)."""

    def __init__(self, db: Any, composer: service.Composer) -> None:
        self.db = db  # app.db.Database
        self.composer = composer

    async def run_due(self, now: datetime) -> RunReport:
        total = RunReport()
        async with self.db.read_session() as session:
            campaigns = list(
                await session.scalars(
                    select(Campaign)
                    .where(Campaign.status == CampaignStatus.ACTIVE)
                    .order_by(Campaign.id)
                )
            )
        for campaign in campaigns:
            if campaign.trigger == "scheduled" and (
                campaign.send_at is None or campaign.send_at > now
            ):
                continue
            total.add(await self.run(campaign.id, now))
        return total

    async def run(self, campaign_id: int, now: datetime) -> RunReport:
        report = RunReport()
        async with self.db.read_session() as session:
            campaign = await session.get(Campaign, campaign_id)
            if campaign is None:
                raise NotFound(field="campaign")
            definition = definition_of(campaign)
            programme = await get_programme(session)
            member_ids = list(
                await session.scalars(await segment_query(session, definition.segment, now))
            )
        for member_id in member_ids:
            async with self.db.unit_of_work() as session:
                step = await self._member(
                    session, campaign_id, definition, member_id, now, programme.timezone
                )
            report.add(step)
        async with self.db.unit_of_work() as session:
            values: dict[str, object] = {"last_run_at": now}
            if definition.trigger == "scheduled":
                values["status"] = CampaignStatus.DONE
            await session.execute(
                update(Campaign)
                .where(Campaign.id == campaign_id, Campaign.status == CampaignStatus.ACTIVE)
                .values(**values)
            )
        return report

    async def _member(
        self,
        session: AsyncSession,
        campaign_id: int,
        definition: CampaignDefinition,
        member_id: int,
        now: datetime,
        programme_zone: str,
    ) -> RunReport:
        member = await session.get(Member, member_id)
        if member is None or member.status != MemberStatus.ACTIVE:
            return RunReport()
        params: dict[str, str | int] = {"first_name": member.first_name or ""}
        trigger = definition.trigger
        if trigger == "scheduled":
            event_key = "send"
        elif trigger == "birthday":
            today = now.astimezone(member_zone(member.phone_e164, programme_zone)).date()
            if member.birth_date is None or not _is_birthday(member.birth_date, today):
                return RunReport()
            event_key = f"birthday:{today.year}"
        elif trigger == "reward_within_reach":
            balance = await ledger.get_balance(session, member_id)
            levels = [
                lv for lv in await rewards.list_levels(session) if lv.points > balance.available
            ]
            if not levels:
                return RunReport()
            level = levels[0]
            missing = level.points - balance.available
            if missing > definition.within_points:
                return RunReport()
            params.update(missing=missing, vouchers=level.voucher_count)
            event_key = f"level:{level.level}:{now.strftime('%Y-%m')}"
        else:  # dormant
            last = await session.scalar(
                select(func.max(Receipt.id)).where(Receipt.member_id == member_id)
            )
            since = now - timedelta(days=definition.dormant_days)
            if last is not None:
                last_at = await session.scalar(select(Receipt.created_at).where(Receipt.id == last))
                if last_at is not None and last_at >= since:
                    return RunReport()
            elif member.created_at >= since:
                return RunReport()
            event_key = f"dormant:{last or 'none'}"
        report = RunReport()
        bonus = 0
        if definition.bonus_points:
            bonus = await self._bonus(session, campaign_id, definition, member_id, event_key, now)
            report.bonuses += 1 if bonus else 0
        balance_now = await ledger.get_balance(session, member_id)
        params.update(bonus=bonus or definition.bonus_points, balance=balance_now.available)
        queued = await service.compose(
            session,
            self.composer,
            member_id=member_id,
            kind=definition.template,
            event_key=f"campaign:{campaign_id}:{event_key}",
            params=params,
            now=now,
            channel=definition.channel,
            campaign_id=campaign_id,
        )
        report.queued += 1 if queued is not None else 0
        return report

    async def _bonus(
        self,
        session: AsyncSession,
        campaign_id: int,
        definition: CampaignDefinition,
        member_id: int,
        event_key: str,
        now: datetime,
    ) -> int:
        """Credit the bonus once per (campaign, member, event key) within the budget;
        the points credited (0: already given, or the budget is spent)."""
        key = f"campaign:{campaign_id}:{event_key}:{member_id}"
        if await ledger.find_entry(session, key) is not None:
            return 0
        if await blocks.is_blocked(session, member_id):
            return 0  # a member blocked by support earns nothing (issue 14)
        points = definition.bonus_points
        campaigns = cast(Table, Campaign.__table__)
        spent = await session.execute(
            update(campaigns)
            .where(
                campaigns.c.id == campaign_id,
                or_(
                    campaigns.c.budget_points.is_(None),
                    campaigns.c.spent_points + points <= campaigns.c.budget_points,
                ),
            )
            .values(spent_points=campaigns.c.spent_points + points)
            .returning(campaigns.c.id)
        )
        if spent.scalar_one_or_none() is None:
            return 0
        programme = await get_programme(session)
        await ledger.post(
            session,
            member_id=member_id,
            kind=EntryKind.OFFER_BONUS,
            delta=points,
            now=now,
            expires_at=points_expire_at(programme, now),
            reference_type="campaign",
            reference_id=definition.code,
            description=definition.name[:200],
            idempotency_key=key,
        )
        return points


def _is_birthday(birth: date, today: date) -> bool:
    if (birth.month, birth.day) == (today.month, today.day):
        return True
    # 29 February birthdays are kept on 28 February in common years.
    leap = today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)
    return (birth.month, birth.day) == (2, 29) and not leap and (today.month, today.day) == (2, 28)


# --- what came of it ----------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignStats:
    targeted: int
    sent: int
    pending: int
    failed: int
    opted_out: int
    cancelled: int
    opened: int
    converted: int
    bonus_points: int


async def stats(session: AsyncSession, campaign: Campaign) -> CampaignStats:
    """Targeted (every member the campaign reached for), sent, failed, opted out, opened
    (where the channel reports it), converted (a receipt within ``conversion_days`` of
    the message being sent)."""
    rows = (
        await session.execute(
            select(MemberMessage.status, func.count())
            .where(MemberMessage.campaign_id == campaign.id)
            .group_by(MemberMessage.status)
        )
    ).all()
    counts = {MessageStatus(status): int(n) for status, n in rows}
    opened = await session.scalar(
        select(func.count()).where(
            MemberMessage.campaign_id == campaign.id, MemberMessage.opened_at.is_not(None)
        )
    )
    window = timedelta(days=campaign.conversion_days)
    sent_at_by_member: dict[int, datetime] = {}
    for member_id, sent_at in (
        await session.execute(
            select(MemberMessage.member_id, MemberMessage.sent_at).where(
                MemberMessage.campaign_id == campaign.id,
                MemberMessage.status == MessageStatus.SENT,
            )
        )
    ).all():
        if sent_at is not None:
            first = sent_at_by_member.get(member_id)
            sent_at_by_member[member_id] = sent_at if first is None else min(first, sent_at)
    converted_members: set[int] = set()
    if sent_at_by_member:
        earliest = min(sent_at_by_member.values())
        purchases = await session.execute(
            select(Receipt.member_id, Receipt.created_at).where(
                Receipt.member_id.in_(list(sent_at_by_member)), Receipt.created_at >= earliest
            )
        )
        for member_id, bought_at in purchases.all():
            sent_at = sent_at_by_member[member_id]
            if sent_at <= bought_at <= sent_at + window:
                converted_members.add(member_id)
    converted = len(converted_members)
    return CampaignStats(
        targeted=sum(counts.values()),
        sent=counts.get(MessageStatus.SENT, 0),
        pending=counts.get(MessageStatus.PENDING, 0) + counts.get(MessageStatus.SENDING, 0),
        failed=counts.get(MessageStatus.FAILED, 0),
        opted_out=counts.get(MessageStatus.OPTED_OUT, 0),
        cancelled=counts.get(MessageStatus.CANCELLED, 0),
        opened=int(opened or 0),
        converted=converted,
        bonus_points=campaign.spent_points,
    )


EXAMPLES: tuple[dict[str, Any], ...] = (
    {
        "code": "birthday",
        "name": "Birthday gift points",
        "trigger": "birthday",
        "channel": "sms",
        "template": "birthday",
        "bonus_points": 50,
        "budget_points": 500_000,
        "conversion_days": 14,
    },
    {
        "code": "reward-within-reach",
        "name": "Close to a reward",
        "trigger": "reward_within_reach",
        "channel": "push",
        "template": "reward_within_reach",
        "within_points": 300,
    },
    {
        "code": "we-miss-you",
        "name": "Dormant members",
        "trigger": "dormant",
        "channel": "email",
        "template": "we_miss_you",
        "dormant_days": 90,
        "conversion_days": 30,
    },
)


async def load_examples(session: AsyncSession, now: datetime) -> int:
    """The example campaigns of ``happy demo`` (idempotent); how many were added."""
    added = 0
    for example in EXAMPLES:
        if await session.scalar(select(Campaign.id).where(Campaign.code == example["code"])):
            continue
        await create_campaign(session, parse_definition(json.dumps(example)), now)
        added += 1
    return added
