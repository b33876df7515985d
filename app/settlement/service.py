"""The monthly settlement between the programme and each partner.

A month runs from midnight on its first day to midnight on the next month's first day in
the programme's time zone. Every figure is defined by timestamps inside that window, so
recomputing a month gives the same report whatever happened later:

- **issued**: points of lots opened in the month, by the lot's funder;
- **reversed**: points that refund reversals made in the month took back, charged to the
  funder of the credit the refund undid (a receipt's partner; an offer bonus's funder),
  whichever lots the reversal consumed;
- **transferred**: a refund reversal takes the undone credit's own lot first, then the
  member's oldest lots; what it took of *another* funder's lots (the member had already
  spent the refunded points) moves between funders: ``+`` on the row whose lots lost the
  points, ``-`` on the refunding row; the column sums to zero;
- **expired / spent / forfeited**: points that debit entries made in the month consumed of
  the funder's lots: expiries, reward claims and prize exchanges, and other debits
  (account deletions, negative adjustments);
- **vouchers redeemed** at the partner's stores: redemptions made in the month minus
  redemptions voided in the month (a void next month is next month's);
- **liability** (EUR cents): ``(issued - reversed - expired - forfeited) * point value``,
  rounded half away from zero once per row; what the funder pays for the points it
  issued that keep their value (spent points became vouchers);
- **net** (EUR cents): ``liability - vouchers value``; positive: the partner owes the
  programme, negative: the programme owes the partner. The programme's own row is 0.

The tie-out, to the point: per row, ``issued - reversed - transferred - expired - spent -
forfeited`` is what the row's funder's lots gained in the month; on the totals row
(transferred sums to 0) it is ``outstanding at the end - outstanding at the start`` (points
left in lots), which is also the sum of every ledger entry's delta in the month.

A closed month (``close_month``) is stored and read back, never recomputed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db import insert_ignoring_conflicts
from app.errors import ErrorCode, InvalidInput
from app.ledger.models import EntryKind, PointsConsumption, PointsEntry, PointsLot
from app.offers.models import OfferReceipt
from app.partners.models import Partner
from app.programme.service import get_programme
from app.receipts.models import Receipt
from app.rewards.models import VoucherRedemption
from app.settlement.models import SettlementMonth, SettlementRow

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_SPENT = frozenset({EntryKind.REWARD_CLAIM, EntryKind.PRIZE_EXCHANGE})


class SettlementRejected(InvalidInput):
    """A settlement request the operator or partner can correct (month, closing); an
    InvalidInput, so every door shows it as bad input with its own code."""

    code = ErrorCode.INVALID_MONTH


@dataclass(frozen=True)
class Month:
    label: str  # YYYY-MM
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC, exclusive


def parse_month(text: str, timezone: str) -> Month:
    """``YYYY-MM`` to its UTC window in the programme's time zone (INVALID_MONTH)."""
    found = _MONTH.match(text.strip()) if isinstance(text, str) else None
    if found is None or int(found.group(1)) < 2000:
        raise SettlementRejected(ErrorCode.INVALID_MONTH, field="month")
    year, month = int(found.group(1)), int(found.group(2))
    zone = ZoneInfo(timezone)
    nxt = (year + 1, 1) if month == 12 else (year, month + 1)
    return Month(
        f"{year:04d}-{month:02d}",
        datetime(year, month, 1, tzinfo=zone).astimezone(UTC),
        datetime(nxt[0], nxt[1], 1, tzinfo=zone).astimezone(UTC),
    )


@dataclass(frozen=True)
class SettlementLine:
    """One row: a partner (``kind`` "partner"), the programme, or the totals."""

    kind: str
    partner_id: int | None
    partner_code: str | None
    partner_name: str | None
    points_issued: int
    points_reversed: int
    points_expired: int
    points_spent: int
    points_forfeited: int
    vouchers_redeemed: int
    vouchers_value_cents: int  # EUR cents, face value
    liability_cents: int  # EUR cents
    net_cents: int  # EUR cents; > 0: the partner owes the programme
    # + points other partners' refunds took of this row's lots, - points this row's refunds
    # took of other funders' lots (sums to 0 over the rows); 0 in months closed before it.
    points_transferred: int = 0

    @property
    def points_change(self) -> int:
        """What the row's lots gained (lost when negative) in the month."""
        return (
            self.points_issued
            - self.points_reversed
            - self.points_transferred
            - self.points_expired
            - self.points_spent
            - self.points_forfeited
        )


@dataclass(frozen=True)
class SettlementReport:
    month: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    point_value_micro_eur: int
    closed_at: datetime | None  # None: an open month, computed now
    outstanding_at_start: int
    outstanding_at_end: int
    lines: list[SettlementLine]  # partners by code, then the programme, then the totals

    @property
    def totals(self) -> SettlementLine:
        return self.lines[-1]

    def line_of(self, partner_id: int) -> SettlementLine | None:
        return next((ln for ln in self.lines if ln.partner_id == partner_id), None)


def points_to_cents(points: int, micro_eur_per_point: int) -> int:
    """EUR cents for ``points``, rounded half away from zero (1 cent = 10,000 micro-EUR)."""
    micro = points * micro_eur_per_point
    cents, rest = divmod(abs(micro), 10_000)
    if rest * 2 >= 10_000:
        cents += 1
    return cents if micro >= 0 else -cents


async def report(session: AsyncSession, month_text: str, now: datetime) -> SettlementReport:
    """The month's settlement: stored if the month is closed, computed otherwise."""
    programme = await get_programme(session)
    month = parse_month(month_text, programme.timezone)
    closed = await session.get(SettlementMonth, month.label)
    if closed is not None:
        return await _stored(session, closed, month)
    return await _compute(session, month, programme.timezone, programme.point_value_micro_eur)


async def partner_line(
    session: AsyncSession, partner_id: int, month_text: str, now: datetime
) -> tuple[SettlementReport, SettlementLine]:
    """One partner's row of the month (the partner door: its own row only)."""
    found = await report(session, month_text, now)
    line = found.line_of(partner_id)
    if line is None:  # a partner created after the month was closed had no activity
        line = _line("partner", partner_id, None, None, [0] * 8, found.point_value_micro_eur)
    return found, line


async def close_month(
    session: AsyncSession, month_text: str, *, now: datetime, closed_by: str
) -> SettlementReport:
    """Store the month's report; from then on it is read back, never recomputed.

    Only a month that has ended (MONTH_NOT_ENDED), once (MONTH_ALREADY_CLOSED)."""
    programme = await get_programme(session)
    month = parse_month(month_text, programme.timezone)
    if now < month.ends_at:
        raise SettlementRejected(ErrorCode.MONTH_NOT_ENDED, field="month")
    computed = await _compute(session, month, programme.timezone, programme.point_value_micro_eur)
    inserted = await session.execute(
        insert_ignoring_conflicts(
            session,
            SettlementMonth.__table__,
            {
                "month": month.label,
                "closed_at": now,
                "closed_by": closed_by[:120],
                "timezone": programme.timezone,
                "point_value_micro_eur": programme.point_value_micro_eur,
                "outstanding_at_start": computed.outstanding_at_start,
                "outstanding_at_end": computed.outstanding_at_end,
            },
            ("month",),
        ).returning(SettlementMonth.__table__.c.month)
    )
    if inserted.scalar_one_or_none() is None:  # closed before (or by a concurrent close)
        raise SettlementRejected(ErrorCode.MONTH_ALREADY_CLOSED, field="month")
    session.add_all(
        SettlementRow(
            month=month.label,
            position=position,
            row_kind=line.kind,
            partner_id=line.partner_id,
            partner_code=line.partner_code,
            partner_name=line.partner_name,
            points_issued=line.points_issued,
            points_reversed=line.points_reversed,
            points_expired=line.points_expired,
            points_spent=line.points_spent,
            points_forfeited=line.points_forfeited,
            vouchers_redeemed=line.vouchers_redeemed,
            vouchers_value_cents=line.vouchers_value_cents,
            liability_cents=line.liability_cents,
            net_cents=line.net_cents,
            points_transferred=line.points_transferred,
        )
        for position, line in enumerate(computed.lines)
    )
    await session.flush()
    return replace(computed, closed_at=now)


async def _stored(session: AsyncSession, closed: SettlementMonth, month: Month) -> SettlementReport:
    rows = (
        await session.scalars(
            select(SettlementRow)
            .where(SettlementRow.month == closed.month)
            .order_by(SettlementRow.position)
        )
    ).all()
    return SettlementReport(
        month=closed.month,
        starts_at=month.starts_at,
        ends_at=month.ends_at,
        timezone=closed.timezone,
        point_value_micro_eur=closed.point_value_micro_eur,
        closed_at=closed.closed_at,
        outstanding_at_start=closed.outstanding_at_start,
        outstanding_at_end=closed.outstanding_at_end,
        lines=[
            SettlementLine(
                kind=r.row_kind,
                partner_id=r.partner_id,
                partner_code=r.partner_code,
                partner_name=r.partner_name,
                points_issued=r.points_issued,
                points_reversed=r.points_reversed,
                points_expired=r.points_expired,
                points_spent=r.points_spent,
                points_forfeited=r.points_forfeited,
                vouchers_redeemed=r.vouchers_redeemed,
                vouchers_value_cents=r.vouchers_value_cents,
                liability_cents=r.liability_cents,
                net_cents=r.net_cents,
                points_transferred=r.points_transferred,
            )
            for r in rows
        ],
    )


def _kind_column(kind: EntryKind) -> int:
    """Index in the points vector: issued 0, reversed 1, expired 2, spent 3, forfeited 4."""
    if kind == EntryKind.REVERSAL:
        return 1
    if kind == EntryKind.EXPIRY:
        return 2
    if kind in _SPENT:
        return 3
    return 4


def _consumed(start: datetime, end: datetime) -> Any:
    """What debits made in the month took of lots, by lot funder and debit kind, with whom
    a refund reversal is charged to: the funder of the credit it undid (a receipt's
    reversal: the receipt's partner, who funded its earn lot; an offer bonus's reversal:
    the funder of the bonus's lot). A reversal of neither kind stays with the lot funder."""
    receipt_id = func.cast(PointsEntry.reference_id, Integer)
    receipt_partner = select(Receipt.partner_id).where(Receipt.id == receipt_id).scalar_subquery()
    bonus_lot = aliased(PointsLot)
    offer_funder = (
        select(bonus_lot.funded_by_partner_id)
        .join(OfferReceipt, OfferReceipt.entry_id == bonus_lot.entry_id)
        .where(
            OfferReceipt.receipt_id == receipt_id,
            PointsEntry.idempotency_key.like(
                literal("offer-refund:") + func.cast(OfferReceipt.id, String) + literal(":%")
            ),
        )
        .scalar_subquery()
    )
    is_receipt = (PointsEntry.kind == EntryKind.REVERSAL) & (
        PointsEntry.reference_type == "receipt"
    )
    charged = case(
        (is_receipt & PointsEntry.idempotency_key.like("offer-refund:%"), offer_funder),
        (is_receipt & PointsEntry.idempotency_key.like("refund:%"), receipt_partner),
        else_=PointsLot.funded_by_partner_id,
    ).label("charged")
    taken = (
        select(
            PointsLot.funded_by_partner_id.label("funder"),
            PointsEntry.kind.label("kind"),
            charged,
            PointsConsumption.points.label("points"),
        )
        .select_from(PointsConsumption)
        .join(PointsLot, PointsLot.id == PointsConsumption.lot_id)
        .join(PointsEntry, PointsEntry.id == PointsConsumption.entry_id)
        .where(PointsEntry.created_at >= start, PointsEntry.created_at < end)
        .subquery()
    )
    return select(taken.c.funder, taken.c.kind, taken.c.charged, func.sum(taken.c.points)).group_by(
        taken.c.funder, taken.c.kind, taken.c.charged
    )


async def _compute(
    session: AsyncSession, month: Month, timezone: str, point_value: int
) -> SettlementReport:
    start, end = month.starts_at, month.ends_at
    # funder (None: programme) -> issued, reversed, expired, spent, forfeited, count, cents,
    # transferred
    figures: dict[int | None, list[int]] = defaultdict(lambda: [0] * 8)
    issued = (
        select(PointsLot.funded_by_partner_id, func.sum(PointsLot.points))
        .where(PointsLot.earned_at >= start, PointsLot.earned_at < end)
        .group_by(PointsLot.funded_by_partner_id)
    )
    for funder, points in await session.execute(issued):
        figures[funder][0] += int(points)
    # funder, debit kind, who a reversal is charged to, points
    for funder, kind, charged, points in await session.execute(_consumed(start, end)):
        entry_kind = EntryKind(kind)
        column = _kind_column(entry_kind)
        figures[charged if entry_kind == EntryKind.REVERSAL else funder][column] += int(points)
        if entry_kind == EntryKind.REVERSAL and charged != funder:
            figures[funder][7] += int(points)  # another partner's refund took its points
            figures[charged][7] -= int(points)
    made = VoucherRedemption.redeemed_at.between(start, end) & (VoucherRedemption.redeemed_at < end)
    voided = VoucherRedemption.voided_at.between(start, end) & (VoucherRedemption.voided_at < end)
    # The EUR value stored at redemption (issue 14: vouchers are EUR; a level priced in
    # another currency is converted at the rate of its day). Redemptions from before the
    # stored amounts were EUR vouchers (every level was), so their face value is EUR.
    value = func.coalesce(VoucherRedemption.eur_amount, VoucherRedemption.value_amount)
    redeemed = (
        select(
            VoucherRedemption.partner_id,
            func.sum(case((made, 1), else_=0) - case((voided, 1), else_=0)),
            func.sum(case((made, value), else_=0) - case((voided, value), else_=0)),
        )
        .where(made | voided)
        .group_by(VoucherRedemption.partner_id)
    )
    # A redemption counts in the month it was made, its void in the month of the void.
    for partner_id, count, cents in await session.execute(redeemed):
        figures[partner_id][5] += int(count)
        figures[partner_id][6] += int(cents)
    partners = (
        await session.execute(select(Partner.id, Partner.code, Partner.name).order_by(Partner.code))
    ).all()
    lines = [
        _line("partner", pid, code, name, figures.get(pid, [0] * 8), point_value)
        for pid, code, name in partners
    ]
    programme = _line("programme", None, None, None, figures.get(None, [0] * 8), point_value)
    programme = replace(programme, net_cents=0)  # the programme owes itself nothing
    lines.append(programme)
    lines.append(_totals(lines))
    before, after = await _outstanding(session, start, end)
    return SettlementReport(
        month=month.label,
        starts_at=start,
        ends_at=end,
        timezone=timezone,
        point_value_micro_eur=point_value,
        closed_at=None,
        outstanding_at_start=before,
        outstanding_at_end=after,
        lines=lines,
    )


def _line(
    kind: str,
    partner_id: int | None,
    code: str | None,
    name: str | None,
    f: Sequence[int],
    point_value: int,
) -> SettlementLine:
    liability = points_to_cents(f[0] - f[1] - f[2] - f[4], point_value)
    return SettlementLine(
        kind=kind,
        partner_id=partner_id,
        partner_code=code,
        partner_name=name,
        points_issued=f[0],
        points_reversed=f[1],
        points_expired=f[2],
        points_spent=f[3],
        points_forfeited=f[4],
        vouchers_redeemed=f[5],
        vouchers_value_cents=f[6],
        liability_cents=liability,
        net_cents=liability - f[6],
        points_transferred=f[7],
    )


def _totals(lines: Sequence[SettlementLine]) -> SettlementLine:
    """Column sums (EUR columns sum the rounded rows, so the CSV adds up)."""
    return SettlementLine(
        kind="totals",
        partner_id=None,
        partner_code=None,
        partner_name=None,
        points_issued=sum(ln.points_issued for ln in lines),
        points_reversed=sum(ln.points_reversed for ln in lines),
        points_expired=sum(ln.points_expired for ln in lines),
        points_spent=sum(ln.points_spent for ln in lines),
        points_forfeited=sum(ln.points_forfeited for ln in lines),
        vouchers_redeemed=sum(ln.vouchers_redeemed for ln in lines),
        vouchers_value_cents=sum(ln.vouchers_value_cents for ln in lines),
        liability_cents=sum(ln.liability_cents for ln in lines),
        net_cents=sum(ln.net_cents for ln in lines),
        points_transferred=sum(ln.points_transferred for ln in lines),
    )


async def _outstanding(session: AsyncSession, start: datetime, end: datetime) -> tuple[int, int]:
    """Points left in lots at ``start`` and at ``end``: lots opened before, minus what
    debits before consumed (consumptions recorded before 0012 have no entry: counted
    as before any month, so they cancel out of the change)."""
    opened = (
        await session.execute(
            select(
                func.coalesce(
                    func.sum(case((PointsLot.earned_at < start, PointsLot.points), else_=0)), 0
                ),
                func.coalesce(
                    func.sum(case((PointsLot.earned_at < end, PointsLot.points), else_=0)), 0
                ),
            )
        )
    ).one()
    taken = (
        await session.execute(
            select(
                func.coalesce(
                    func.sum(
                        case(
                            (PointsConsumption.entry_id.is_(None), PointsConsumption.points),
                            (PointsEntry.created_at < start, PointsConsumption.points),
                            else_=0,
                        )
                    ),
                    0,
                ),
                func.coalesce(
                    func.sum(
                        case(
                            (PointsConsumption.entry_id.is_(None), PointsConsumption.points),
                            (PointsEntry.created_at < end, PointsConsumption.points),
                            else_=0,
                        )
                    ),
                    0,
                ),
            )
            .select_from(PointsConsumption)
            .outerjoin(PointsEntry, PointsEntry.id == PointsConsumption.entry_id)
        )
    ).one()
    return int(opened[0]) - int(taken[0]), int(opened[1]) - int(taken[1])
