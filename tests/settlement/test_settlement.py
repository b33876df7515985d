"""Settlement: a month of activity across partners through the doors, every column checked
against the ledger, the tie-out, closed months, CSV/JSON, the partner door, ledger check."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from app.db import Database
from app.ledger.models import EntryKind, PointsEntry, PointsLot
from app.receipts.models import Receipt
from app.rewards.models import VoucherRedemption
from app.settings import Settings
from app.settlement import service as settlement
from tests.helpers import Api
from tests.pos.conftest import (
    Member,
    Pos,
    claim,
    demo,
    happy,
    make_key,
    receipt,
    sign_up,
)

NOV_START = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # 1 Nov 00:00 Europe/Tirane (CET)
DEC_START = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)

SETTLEMENT = """
query($month: String!) {
  settlement(month: $month) {
    __typename
    ... on PartnerSettlement {
      month closed partnerCode pointsIssued pointsReversed pointsExpired pointsSpent
      pointsForfeited vouchersRedeemed vouchersValue { amount currency }
      liability { amount currency } net { amount currency } pointValueMicroEur
    }
    ... on Error { code message field }
  }
}"""


def _line(amount: int, sku: str = "BREAD-500") -> list[dict[str, Any]]:
    return [
        {
            "sku": sku,
            "name": "Bukë",
            "brand": None,
            "category": "bakery",
            "quantity": "1",
            "unitPrice": amount,
            "amount": amount,
        }
    ]


class Month:
    """What the test did in November, by door, to check the report against."""

    spar_r1: dict[str, Any]
    neptun_r2: dict[str, Any]
    refund: dict[str, Any]
    expired: int
    spent: int


async def _sum(db: Database, stmt: Any) -> int:
    async with db.read_session() as session:
        return int((await session.execute(stmt)).scalar_one() or 0)


def _in(column: Any, start: datetime, end: datetime) -> Any:
    return (column >= start) & (column < end)


async def _build_november(
    api: Api, db: Database, settings: Settings, client: httpx.AsyncClient, now: list[Any]
) -> tuple[Member, Member, Pos, Pos, list[str]]:
    # October 2025: a member joins (80 welcome points, the programme's) and earns at Spar;
    # both lots expire in November 2026.
    now[0] = datetime(2025, 11, 4, 9, 0, tzinfo=UTC)
    await demo(db)
    spar = Pos(client, await make_key(db, settings, "SPAR-TIR-01"))
    neptun = Pos(client, await make_key(db, settings, "NEP-PRN-01"))
    ana = await sign_up(api, db, "+355691110001")
    r0 = await spar.submit(receipt("R0", ana.card, lines=_line(120000)))
    assert r0["__typename"] == "ReceiptAccepted" and r0["pointsEarned"] > 0

    # November 2026.
    now[0] = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    r1 = await spar.submit(receipt("R1", ana.card, lines=_line(60_000_000)))
    assert r1["pointsEarned"] >= 6000
    now[0] = datetime(2026, 11, 4, 10, 0, tzinfo=UTC)
    r2 = await neptun.submit(receipt("R2", ana.card, lines=_line(50_000, "NEP-TV"), currency="EUR"))
    assert r2["pointsEarned"] > 0
    ben = await sign_up(api, db, "+355691110002")  # 80 points, the programme's, in November
    now[0] = datetime(2026, 11, 6, 10, 0, tzinfo=UTC)
    assert await happy(["points", "expire"]) == 0  # R0's lot and the welcome lot expire
    now[0] = datetime(2026, 11, 7, 10, 0, tzinfo=UTC)
    refund = await spar.refund(
        receiptId="R1", refundId="RF1", lines=[{"lineNumber": 1, "amount": 10_000_000}]
    )
    assert refund["pointsReversed"] > 0 and refund["pointsUncollected"] == 0
    now[0] = datetime(2026, 11, 8, 10, 0, tzinfo=UTC)
    ana = await sign_up(api, db, ana.phone)  # signs in again (the 2025 session ended)
    claimed = await claim(api, ana, 1)  # 5,000 points, all from R1's (Spar's) lot
    assert claimed["__typename"] == "RewardClaimed", claimed
    codes = [v["code"] for v in claimed["vouchers"]]
    now[0] = datetime(2026, 11, 9, 10, 0, tzinfo=UTC)
    assert (await neptun.redeem(codes[0], "N-1"))["__typename"] == "VoucherRedeemed"
    assert (await neptun.redeem(codes[1], "N-2"))["__typename"] == "VoucherRedeemed"
    now[0] = datetime(2026, 11, 9, 11, 0, tzinfo=UTC)
    assert (await neptun.void(codes[1], "N-2"))["__typename"] == "VoucherRedemptionVoided"
    # 30 Nov 23:30 in Tirana: still November; voided after midnight: December.
    now[0] = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)
    assert (await neptun.redeem(codes[2], "N-3"))["__typename"] == "VoucherRedeemed"
    return ana, ben, spar, neptun, codes


async def test_a_month_across_partners_ties_to_the_ledger(
    api: Api,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    frozen_now: list[Any],
    cli_env: None,
) -> None:
    _, ben, spar, neptun, codes = await _build_november(api, db, settings, client, frozen_now)
    frozen_now[0] = datetime(2026, 11, 30, 23, 10, tzinfo=UTC)  # 1 Dec, 00:10 in Tirana
    async with db.read_session() as session:
        found = await settlement.report(session, "2026-11", frozen_now[0])
        partners = dict((await session.execute(text("SELECT code, id FROM partners"))).all())
    assert found.closed_at is None and found.starts_at == NOV_START and found.ends_at == DEC_START
    rows = {ln.partner_code if ln.kind == "partner" else ln.kind: ln for ln in found.lines}
    assert [ln.kind for ln in found.lines][-2:] == ["programme", "totals"]
    assert len(found.lines) == len(partners) + 2

    start, end = NOV_START, DEC_START
    entries = PointsEntry

    # Issued, from the ledger: each receipt's entries (earn + offer bonuses of partner offers
    # are the partner's) and everything else the programme's.
    async def issued_by_receipt_partner(code: str) -> int:
        return await _sum(
            db,
            select(func.sum(PointsLot.points))
            .join(entries, entries.id == PointsLot.entry_id)
            .join(Receipt, text("CAST(receipts.id AS VARCHAR(80)) = points_entries.reference_id"))
            .where(
                entries.reference_type == "receipt",
                entries.kind == EntryKind.EARN,
                Receipt.partner_id == partners[code],
                _in(entries.created_at, start, end),
            ),
        )

    spar_earn = await issued_by_receipt_partner("SPAR")
    neptun_earn = await issued_by_receipt_partner("NEPTUN")
    assert spar_earn == await _sum(
        db,
        select(func.sum(entries.delta))
        .where(entries.kind == EntryKind.EARN, entries.description == "Spar")
        .where(_in(entries.created_at, start, end)),
    )
    bonuses = await _sum(
        db,
        select(func.count()).where(
            entries.kind == EntryKind.OFFER_BONUS, _in(entries.created_at, start, end)
        ),
    )
    assert bonuses == 0  # the demo offers had ended: the receipts earned base points only
    assert rows["SPAR"].points_issued == spar_earn
    assert rows["NEPTUN"].points_issued == neptun_earn
    assert rows["programme"].points_issued == 80  # Ben's welcome bonus
    assert all(
        ln.points_issued == 0
        for ln in found.lines
        if ln.kind == "partner" and ln.partner_code not in {"SPAR", "NEPTUN"}
    )

    # Reversed: the refund's reversal, all from R1's (Spar's) lot.
    reversed_ = -await _sum(
        db,
        select(func.sum(entries.delta)).where(
            entries.kind == EntryKind.REVERSAL, _in(entries.created_at, start, end)
        ),
    )
    assert reversed_ > 0
    assert rows["SPAR"].points_reversed == reversed_
    assert sum(ln.points_reversed for ln in found.lines[:-1]) == reversed_

    # Expired: the 2025 lots, by the expiry entries that name them.
    async with db.read_session() as session:
        expiries = (
            await session.execute(
                select(PointsLot.funded_by_partner_id, -entries.delta)
                .join(
                    PointsLot,
                    text("CAST(points_lots.id AS VARCHAR(80)) = points_entries.reference_id"),
                )
                .where(entries.kind == EntryKind.EXPIRY, _in(entries.created_at, start, end))
            )
        ).all()
    by_funder = {funder: int(points) for funder, points in expiries}
    assert set(by_funder) == {None, partners["SPAR"]}
    assert by_funder[None] == 80
    assert rows["programme"].points_expired == 80
    assert rows["SPAR"].points_expired == by_funder[partners["SPAR"]] > 0

    # Spent: the claim's 5,000 points came from Spar's lot (R1, the oldest left).
    spent = -await _sum(
        db,
        select(func.sum(entries.delta)).where(
            entries.kind == EntryKind.REWARD_CLAIM, _in(entries.created_at, start, end)
        ),
    )
    assert spent == 5000
    assert rows["SPAR"].points_spent == 5000
    assert rows["NEPTUN"].points_spent == 0 and rows["programme"].points_spent == 0
    assert all(ln.points_forfeited == 0 for ln in found.lines)

    # Vouchers redeemed at Neptun: N-1 and N-3 (N-2 voided the same month), 4 EUR each.
    counted = await _sum(
        db,
        select(func.count()).where(
            VoucherRedemption.partner_id == partners["NEPTUN"],
            _in(VoucherRedemption.redeemed_at, start, end),
            VoucherRedemption.voided_at.is_(None) | (VoucherRedemption.voided_at >= end),
        ),
    )
    assert counted == 2
    assert rows["NEPTUN"].vouchers_redeemed == 2
    assert rows["NEPTUN"].vouchers_value_cents == 800
    assert rows["SPAR"].vouchers_redeemed == 0 and rows["SPAR"].vouchers_value_cents == 0

    # Liability at 0.48 cents a point (rounded half away from zero) and the net position.
    spar_kept = rows["SPAR"].points_issued - reversed_ - rows["SPAR"].points_expired
    assert rows["SPAR"].liability_cents == settlement.points_to_cents(spar_kept, 4800)
    assert rows["SPAR"].liability_cents == round(spar_kept * 0.48 + 1e-9)
    assert rows["SPAR"].net_cents == rows["SPAR"].liability_cents  # Spar owes the programme
    neptun_liability = settlement.points_to_cents(neptun_earn, 4800)
    assert rows["NEPTUN"].liability_cents == neptun_liability
    assert rows["NEPTUN"].net_cents == neptun_liability - 800
    assert rows["programme"].liability_cents == 0 and rows["programme"].net_cents == 0

    # Totals: column sums, and the tie-out to the ledger, to the point.
    totals = found.totals
    assert totals.points_issued == spar_earn + neptun_earn + 80
    assert totals.net_cents == sum(ln.net_cents for ln in found.lines[:-1])
    moved = await _sum(
        db, select(func.sum(entries.delta)).where(_in(entries.created_at, start, end))
    )
    before = await _sum(db, select(func.sum(entries.delta)).where(entries.created_at < start))
    left_now = await _sum(db, select(func.sum(PointsLot.remaining)))
    assert totals.points_change == moved
    assert found.outstanding_at_start == before
    assert found.outstanding_at_end == left_now == before + moved
    assert found.outstanding_at_end - found.outstanding_at_start == totals.points_change

    # The partner door: each key sees its own partner's row, a bad month is typed.
    spar_view = await spar.call(SETTLEMENT, "settlement", {"month": "2026-11"})
    assert spar_view["partnerCode"] == "SPAR" and spar_view["closed"] is False
    assert spar_view["pointsIssued"] == rows["SPAR"].points_issued
    assert spar_view["pointsSpent"] == 5000 and spar_view["vouchersRedeemed"] == 0
    assert spar_view["net"] == {"amount": rows["SPAR"].net_cents, "currency": "EUR"}
    neptun_view = await neptun.call(SETTLEMENT, "settlement", {"month": "2026-11"})
    assert neptun_view["partnerCode"] == "NEPTUN"
    assert neptun_view["vouchersRedeemed"] == 2
    assert neptun_view["vouchersValue"] == {"amount": 800, "currency": "EUR"}
    assert neptun_view["net"]["amount"] == rows["NEPTUN"].net_cents
    for bad in ("2026-13", "November", "26-11", ""):
        wrong = await spar.call(SETTLEMENT, "settlement", {"month": bad})
        assert wrong["__typename"] == "InputError"
        assert wrong["code"] == "INVALID_MONTH" and wrong["field"] == "month"
    nobody = await Pos(client, None).gql(SETTLEMENT, {"month": "2026-11"})
    assert nobody["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # Close the month; later activity (a void, a receipt, an expiry run) lands in December.
    frozen_now[0] = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert await happy(["settlement", "close", "--month", "2026-11"]) == 0
    assert await happy(["settlement", "close", "--month", "2026-11"]) == 1  # only once
    assert (await neptun.void(codes[2], "N-3"))["__typename"] == "VoucherRedemptionVoided"
    more = await spar.submit(receipt("R3", ben.card, lines=_line(300_000)))
    assert more["pointsEarned"] > 0
    # Rewrite history behind November (R1's lot now Neptun's): the closed report stands,
    # although computing November again would now differ.
    moved_lot = "UPDATE points_lots SET funded_by_partner_id = :to WHERE funded_by_partner_id = :fr"
    async with db.engine.begin() as conn:
        await conn.execute(text(moved_lot), {"to": partners["NEPTUN"], "fr": partners["SPAR"]})
    try:
        async with db.read_session() as session:
            again = await settlement.report(session, "2026-11", frozen_now[0])
            month = settlement.parse_month("2026-11", "Europe/Tirane")
            live = await settlement._compute(session, month, "Europe/Tirane", 4800)
    finally:
        async with db.engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE points_lots SET funded_by_partner_id = :to "
                    "WHERE funded_by_partner_id = :fr AND entry_id IN (SELECT id FROM "
                    "points_entries WHERE reference_type = 'receipt' AND description = 'Spar')"
                ),
                {"to": partners["SPAR"], "fr": partners["NEPTUN"]},
            )
    assert live.lines != found.lines
    async with db.read_session() as session:
        december = await settlement.report(session, "2026-12", frozen_now[0])
    assert again.closed_at == frozen_now[0]
    assert [
        (ln.kind, ln.partner_code, ln.points_issued, ln.vouchers_redeemed, ln.net_cents)
        for ln in again.lines
    ] == [
        (ln.kind, ln.partner_code, ln.points_issued, ln.vouchers_redeemed, ln.net_cents)
        for ln in found.lines
    ]
    assert again.lines == found.lines
    assert again.outstanding_at_end == found.outstanding_at_end
    dec = {ln.partner_code if ln.kind == "partner" else ln.kind: ln for ln in december.lines}
    assert dec["NEPTUN"].vouchers_redeemed == -1 and dec["NEPTUN"].vouchers_value_cents == -400
    assert dec["SPAR"].points_issued == more["pointsEarned"]
    closed_view = await spar.call(SETTLEMENT, "settlement", {"month": "2026-11"})
    assert closed_view == {**spar_view, "closed": True}


async def test_settlement_cli_formats_and_closing_rules(
    api: Api,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    frozen_now: list[Any],
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _build_november(api, db, settings, client, frozen_now)
    frozen_now[0] = datetime(2026, 11, 30, 22, 59, tzinfo=UTC)  # still November in Tirana
    capsys.readouterr()
    assert await happy(["settlement", "close", "--month", "2026-11"]) == 1
    assert "A month can be closed only after it has ended" in capsys.readouterr().err
    assert await happy(["settlement", "report", "--month", "2026-13"]) != 0
    assert "INVALID_MONTH" in capsys.readouterr().err

    frozen_now[0] = DEC_START + timedelta(hours=1)
    assert await happy(["settlement", "report", "--month", "2026-11", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == [
        "partner",
        "name",
        "points issued",
        "points reversed",
        "points transferred",
        "points expired",
        "points spent",
        "points forfeited",
        "vouchers redeemed",
        "vouchers value EUR",
        "liability EUR",
        "net EUR",
    ]
    by_code = {row[0]: row for row in rows[1:]}
    assert list(by_code)[-2:] == ["programme", "totals"]
    assert by_code["NEPTUN"][8:10] == ["2", "8.00"]
    assert by_code["SPAR"][6] == "5000"
    assert by_code["SPAR"][4] == "0"  # nothing transferred: Spar's refund took its own lot
    async with db.read_session() as session:
        found = await settlement.report(session, "2026-11", frozen_now[0])
    for line in found.lines:
        key = line.partner_code if line.kind == "partner" else line.kind
        cents = line.net_cents
        assert (
            by_code[key][11]
            == f"{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02d}"
        )
        assert int(by_code[key][2]) == line.points_issued

    assert await happy(["settlement", "report", "--month", "2026-11", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["month"] == "2026-11" and data["closedAt"] is None
    assert data["pointValueMicroEur"] == 4800
    assert data["rows"][-1]["row"] == "totals"
    neptun_row = next(r for r in data["rows"] if r["partnerCode"] == "NEPTUN")
    assert neptun_row["vouchers_redeemed"] == 2 and neptun_row["vouchers_value_cents"] == 800

    assert await happy(["settlement", "report", "--month", "2026-11"]) == 0
    table = capsys.readouterr().out
    assert "open: computed now" in table and "tie-out" in table
    assert await happy(["settlement", "close", "--month", "2026-11"]) == 0
    assert "closed" in capsys.readouterr().out
    assert await happy(["settlement", "report", "--month", "2026-11"]) == 0
    assert "closed 2026-12-01T00:00:00" in capsys.readouterr().out
    assert await happy(["settlement", "close", "--month", "2026-11"]) == 1
    assert "already closed" in capsys.readouterr().err

    # A new point value applies to open months; the closed one keeps the value it had.
    assert await happy(["programme", "set", "--point-value", "5000"]) == 0
    try:
        assert "1 point = 5000 micro-EUR" in capsys.readouterr().out
        assert await happy(["settlement", "report", "--month", "2026-11", "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["pointValueMicroEur"] == 4800
        assert await happy(["settlement", "report", "--month", "2026-12", "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["pointValueMicroEur"] == 5000
        assert await happy(["programme", "set", "--point-value", "0"]) == 2
    finally:
        assert await happy(["programme", "set", "--point-value", "4800"]) == 0


def test_points_to_cents_rounds_half_away_from_zero() -> None:
    assert settlement.points_to_cents(5000, 4800) == 2400  # 5,000 points -> 24 EUR
    assert settlement.points_to_cents(1, 4800) == 0  # 0.48 cents
    assert settlement.points_to_cents(2, 4800) == 1  # 0.96 cents
    assert settlement.points_to_cents(25, 4800) == 12  # 12.00
    assert settlement.points_to_cents(51, 4800) == 24  # 24.48
    assert settlement.points_to_cents(-51, 4800) == -24
    assert settlement.points_to_cents(125, 4000) == 50
    assert settlement.points_to_cents(1, 5000) == 1  # 0.5 cents: half away from zero
    assert settlement.points_to_cents(-1, 5000) == -1


def test_months_follow_the_programme_time_zone() -> None:
    july = settlement.parse_month("2026-07", "Europe/Tirane")
    assert july.starts_at == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)  # CEST
    assert july.ends_at == datetime(2026, 7, 31, 22, 0, tzinfo=UTC)
    december = settlement.parse_month("2026-12", "Europe/Tirane")
    assert december.ends_at == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    for bad in ("2026-00", "2026-1", "1999-12", "2026/11", "abcd-ef"):
        with pytest.raises(settlement.SettlementRejected):
            settlement.parse_month(bad, "Europe/Tirane")


async def test_ledger_check_verifies_consumptions(
    api: Api,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await demo(db)
    spar = Pos(client, await make_key(db, settings, "SPAR-TIR-01"))
    member = await sign_up(api, db, "+355691110003")
    await spar.submit(receipt("C1", member.card, lines=_line(600_000)))
    refund = await spar.refund(
        receiptId="C1", refundId="C1-R", lines=[{"lineNumber": 1, "amount": 300_000}]
    )
    assert refund["pointsReversed"] == 30
    async with db.read_session() as session:
        consumed = (
            await session.execute(
                text(
                    "SELECT l.entry_id, c.points FROM points_consumptions c "
                    "JOIN points_lots l ON l.id = c.lot_id"
                )
            )
        ).all()
        earn = (
            await session.execute(select(PointsEntry.id).where(PointsEntry.kind == EntryKind.EARN))
        ).scalar_one()
    assert consumed == [(earn, 30)]  # the receipt's own lot, not the older welcome lot
    assert await happy(["ledger", "check"]) == 0
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE points_consumptions SET points = points + 1"))
    try:
        assert await happy(["ledger", "check"]) == 1
        assert "consumed 31, remaining" in capsys.readouterr().err
    finally:
        async with db.engine.begin() as conn:
            await conn.execute(text("UPDATE points_consumptions SET points = points - 1"))
    assert await happy(["ledger", "check"]) == 0
