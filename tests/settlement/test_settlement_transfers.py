"""A refund at one partner whose points the member had already spent (review of issue 14,
fix14): the reversal is the refunding partner's, what it took of another funder's lots is a
transfer between the two rows, and every row still ties to its funder's lots."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import case, func, select, text

from app.db import Database
from app.ledger.models import EntryKind, PointsConsumption, PointsEntry, PointsLot
from app.settings import Settings
from app.settlement import service as settlement
from tests.helpers import Api
from tests.offers.conftest import create_offer
from tests.pos.conftest import Pos, claim, demo, happy, make_key, receipt, sign_up
from tests.settlement.test_settlement import DEC_START, NOV_START, _line

SETTLEMENT = """
query($month: String!) {
  settlement(month: $month) {
    ... on PartnerSettlement { partnerCode pointsReversed pointsTransferred liability { amount } }
  }
}"""


async def _neptun_refund_after_spending(
    api: Api, db: Database, settings: Settings, client: httpx.AsyncClient, now: list[Any]
) -> tuple[Pos, Pos, dict[str, Any]]:
    now[0] = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    await demo(db)
    spar = Pos(client, await make_key(db, settings, "SPAR-TIR-01"))
    neptun = Pos(client, await make_key(db, settings, "NEP-PRN-01"))
    ana = await sign_up(api, db, "+355691110001")
    n1 = await neptun.submit(
        receipt("N1", ana.card, lines=_line(600_000, "NEP-TV"), currency="EUR")
    )
    assert n1["__typename"] == "ReceiptAccepted", n1
    now[0] = datetime(2026, 11, 4, 10, 0, tzinfo=UTC)
    s1 = await spar.submit(receipt("S1", ana.card, lines=_line(60_000_000)))
    assert s1["__typename"] == "ReceiptAccepted", s1
    now[0] = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)
    ana = await sign_up(api, db, ana.phone)
    claimed = await claim(api, ana, 1)  # welcome first, then Neptun's lot (the oldest)
    assert claimed["__typename"] == "RewardClaimed", claimed
    now[0] = datetime(2026, 11, 6, 10, 0, tzinfo=UTC)
    refund = await neptun.refund(
        receiptId="N1", refundId="RF1", lines=[{"lineNumber": 1, "amount": 600_000}]
    )
    assert refund["pointsReversed"] > 0, refund
    return spar, neptun, refund


async def _lot_change_by_funder(db: Database) -> dict[int | None, int]:
    """From the ledger tables: what each funder's lots gained in November (lots opened,
    minus what debits made in November took of them)."""
    in_month = (PointsEntry.created_at >= NOV_START) & (PointsEntry.created_at < DEC_START)
    async with db.read_session() as session:
        opened = await session.execute(
            select(PointsLot.funded_by_partner_id, func.sum(PointsLot.points))
            .where(PointsLot.earned_at >= NOV_START, PointsLot.earned_at < DEC_START)
            .group_by(PointsLot.funded_by_partner_id)
        )
        change: dict[int | None, int] = {f: int(p) for f, p in opened}
        taken = await session.execute(
            select(
                PointsLot.funded_by_partner_id,
                func.sum(case((in_month, PointsConsumption.points), else_=0)),
            )
            .join(PointsLot, PointsLot.id == PointsConsumption.lot_id)
            .join(PointsEntry, PointsEntry.id == PointsConsumption.entry_id)
            .group_by(PointsLot.funded_by_partner_id)
        )
        for funder, points in taken:
            change[funder] = change.get(funder, 0) - int(points)
    return change


async def test_a_refund_of_spent_points_is_the_refunders_and_a_transfer_between_funders(
    api: Api,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    frozen_now: list[Any],
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, neptun, refund = await _neptun_refund_after_spending(api, db, settings, client, frozen_now)
    reversed_ = refund["pointsReversed"]
    async with db.read_session() as session:
        found = await settlement.report(session, "2026-11", frozen_now[0])
        partners = dict((await session.execute(text("SELECT code, id FROM partners"))).all())
        # What the reversal took of Spar's lots (the member had spent Neptun's points).
        from_spar = int(
            (
                await session.execute(
                    select(func.coalesce(func.sum(PointsConsumption.points), 0))
                    .join(PointsLot, PointsLot.id == PointsConsumption.lot_id)
                    .join(PointsEntry, PointsEntry.id == PointsConsumption.entry_id)
                    .where(
                        PointsEntry.kind == EntryKind.REVERSAL,
                        PointsLot.funded_by_partner_id == partners["SPAR"],
                    )
                )
            ).scalar_one()
        )
    rows = {ln.partner_code if ln.kind == "partner" else ln.kind: ln for ln in found.lines}
    assert 0 < from_spar <= reversed_
    assert rows["NEPTUN"].points_reversed == reversed_ and rows["SPAR"].points_reversed == 0
    assert rows["SPAR"].points_transferred == from_spar
    assert rows["NEPTUN"].points_transferred == -from_spar
    assert sum(ln.points_transferred for ln in found.lines[:-1]) == 0
    assert found.totals.points_transferred == 0
    # Liability: Neptun pays for what it issued less what its refund took back; Spar for
    # everything it issued (the member spent Spar's points, in effect).
    assert rows["NEPTUN"].liability_cents == settlement.points_to_cents(
        rows["NEPTUN"].points_issued - reversed_, 4800
    )
    assert rows["SPAR"].liability_cents == settlement.points_to_cents(
        rows["SPAR"].points_issued, 4800
    )
    # The tie-out, per row (each funder's lots) and on the totals row (all lots).
    change = await _lot_change_by_funder(db)
    for line in found.lines[:-1]:
        assert line.points_change == change.get(line.partner_id, 0), line
    assert found.totals.points_change == sum(change.values())
    assert found.totals.points_change == found.outstanding_at_end - found.outstanding_at_start

    # The doors: CSV column, the partner's own row.
    frozen_now[0] = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    capsys.readouterr()
    assert await happy(["settlement", "report", "--month", "2026-11", "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    by_code = {row["partner"]: row for row in table}
    assert by_code["SPAR"]["points transferred"] == str(from_spar)
    assert by_code["NEPTUN"]["points transferred"] == str(-from_spar)
    assert by_code["totals"]["points transferred"] == "0"
    view = await neptun.call(SETTLEMENT, "settlement", {"month": "2026-11"})
    assert (view["pointsReversed"], view["pointsTransferred"]) == (reversed_, -from_spar)

    # Closed: stored with the column and read back unchanged.
    assert await happy(["settlement", "close", "--month", "2026-11"]) == 0
    async with db.read_session() as session:
        stored = await settlement.report(session, "2026-11", frozen_now[0])
    assert stored.closed_at is not None and stored.lines == found.lines
    assert await happy(["ledger", "check"]) == 0


async def test_a_month_closed_before_the_column_existed_reads_it_as_zero(
    db: Database, frozen_now: list[Any]
) -> None:
    frozen_now[0] = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    await demo(db)
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO settlement_months (month, closed_at, closed_by, timezone, "
                "point_value_micro_eur, outstanding_at_start, outstanding_at_end) VALUES "
                "('2026-10', :at, 'finance', 'Europe/Tirane', 4800, 0, 10)"
            ),
            {"at": frozen_now[0]},
        )
        # A row as migration 0012's schema wrote it: no points_transferred.
        await conn.execute(
            text(
                "INSERT INTO settlement_rows (month, position, row_kind, points_issued, "
                "points_reversed, points_expired, points_spent, points_forfeited, "
                "vouchers_redeemed, vouchers_value_cents, liability_cents, net_cents) VALUES "
                "('2026-10', 0, 'totals', 10, 0, 0, 0, 0, 0, 0, 5, 5)"
            )
        )
    async with db.read_session() as session:
        found = await settlement.report(session, "2026-10", frozen_now[0])
    assert found.totals.points_transferred == 0 and found.totals.points_change == 10


async def test_an_offer_bonus_taken_back_is_the_offer_funders_reversal(
    api: Api,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    frozen_now: list[Any],
    cli_env: None,
    tmp_path: Path,
) -> None:
    """A refund at Spar takes back the receipt's base points (Spar's) and a programme-funded
    offer bonus: each reversal is charged to whoever funded the credit it undid."""
    frozen_now[0] = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    await demo(db)
    await create_offer(tmp_path, funder="programme")  # 100 points on every receipt, the programme's
    spar = Pos(client, await make_key(db, settings, "SPAR-TIR-01"))
    ana = await sign_up(api, db, "+355691110001")
    earned = await spar.submit(receipt("R1", ana.card))
    assert earned["pointsEarned"] == 111, earned  # 11 base + 100 bonus
    frozen_now[0] = datetime(2026, 11, 4, 10, 0, tzinfo=UTC)
    refund = await spar.refund(receiptId="R1", refundId="F1")
    assert refund["__typename"] == "ReceiptRefunded", refund
    async with db.read_session() as session:
        found = await settlement.report(session, "2026-11", frozen_now[0])
    rows = {ln.partner_code if ln.kind == "partner" else ln.kind: ln for ln in found.lines}
    assert (rows["SPAR"].points_issued, rows["SPAR"].points_reversed) == (11, 11)
    assert rows["programme"].points_reversed == 100  # not Spar's: it never issued them
    assert all(ln.points_transferred == 0 for ln in found.lines)
    assert rows["SPAR"].liability_cents == 0
    change = await _lot_change_by_funder(db)
    for line in found.lines[:-1]:
        assert line.points_change == change.get(line.partner_id, 0), line
