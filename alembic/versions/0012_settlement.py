"""settlement: who funded each lot, which lots each debit consumed, closed months

Revision ID: 0012_settlement
Revises: 0009_messages

Backfill: a lot opened by a receipt's earn entry is funded by the receipt's partner, an
offer bonus by the offer's funder, every other lot by the programme (NULL). Consumptions
are rebuilt by replaying each member's debits in entry order with the rules ``post``
used (the refund's own lot first, then oldest first); a member whose replay does not end
at the lots' stored ``remaining`` gets one consumption per lot with ``entry_id`` NULL
(what the lot had lost before consumptions were recorded), so ``happy ledger check``
holds either way.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa

from alembic import op

revision = "0012_settlement"
down_revision = "0010_fraud_limits"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("points_lots") as batch:
        batch.add_column(sa.Column("funded_by_partner_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_points_lots_funded_by_partner_id_partners"),
            "partners",
            ["funded_by_partner_id"],
            ["id"],
        )
    op.create_table(
        "points_consumptions",
        _id(),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("points > 0", name=op.f("ck_points_consumptions_points_positive")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["points_entries.id"],
            name=op.f("fk_points_consumptions_entry_id_points_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["points_lots.id"], name=op.f("fk_points_consumptions_lot_id_points_lots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_consumptions")),
    )
    op.create_index(op.f("ix_points_consumptions_entry_id"), "points_consumptions", ["entry_id"])
    op.create_index(op.f("ix_points_consumptions_lot_id"), "points_consumptions", ["lot_id"])
    with op.batch_alter_table("programmes") as batch:
        # 1 point = 0.48 EUR cents (5,000 points -> 24 EUR of vouchers) = 4,800 micro-EUR.
        batch.add_column(
            sa.Column(
                "point_value_micro_eur", sa.BigInteger(), nullable=False, server_default="4800"
            )
        )
    op.create_table(
        "settlement_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("closed_at", TS, nullable=False),
        sa.Column("closed_by", sa.String(length=120), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("point_value_micro_eur", sa.BigInteger(), nullable=False),
        sa.Column("outstanding_at_start", sa.BigInteger(), nullable=False),
        sa.Column("outstanding_at_end", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_settlement_months")),
    )
    op.create_table(
        "settlement_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("row_kind", sa.String(length=10), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("partner_code", sa.String(length=40), nullable=True),
        sa.Column("partner_name", sa.String(length=200), nullable=True),
        sa.Column("points_issued", sa.BigInteger(), nullable=False),
        sa.Column("points_reversed", sa.BigInteger(), nullable=False),
        sa.Column("points_expired", sa.BigInteger(), nullable=False),
        sa.Column("points_spent", sa.BigInteger(), nullable=False),
        sa.Column("points_forfeited", sa.BigInteger(), nullable=False),
        sa.Column("vouchers_redeemed", sa.BigInteger(), nullable=False),
        sa.Column("vouchers_value_cents", sa.BigInteger(), nullable=False),
        sa.Column("liability_cents", sa.BigInteger(), nullable=False),
        sa.Column("net_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["month"],
            ["settlement_months.month"],
            name=op.f("fk_settlement_rows_month_settlement_months"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_settlement_rows_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_rows")),
        sa.UniqueConstraint("month", "position", name=op.f("uq_settlement_rows_month_position")),
    )
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    # Funders: receipts' earn entries -> the receipt's partner; offer bonuses -> the offer's.
    bind.execute(
        sa.text(
            "UPDATE points_lots SET funded_by_partner_id = ("
            " SELECT r.partner_id FROM points_entries e JOIN receipts r"
            " ON e.reference_type = 'receipt' AND e.reference_id = CAST(r.id AS VARCHAR(80))"
            " WHERE e.id = points_lots.entry_id AND e.kind = 'earn')"
        )
    )
    bind.execute(
        sa.text(
            "UPDATE points_lots SET funded_by_partner_id = ("
            " SELECT o.funder_partner_id FROM offer_receipts x JOIN offers o ON o.id = x.offer_id"
            " WHERE x.entry_id = points_lots.entry_id)"
            " WHERE EXISTS (SELECT 1 FROM offer_receipts x WHERE x.entry_id = points_lots.entry_id)"
        )
    )
    _replay_consumptions(bind)


def _replay_consumptions(bind: sa.Connection) -> None:
    lots_by_member: dict[int, list[list[object]]] = defaultdict(list)
    lot_of_entry: dict[int, int] = {}
    for lot_id, member_id, entry_id, points, remaining, expires_at in bind.execute(
        sa.text(
            "SELECT id, member_id, entry_id, points, remaining, expires_at FROM points_lots"
            " ORDER BY member_id, id"
        )
    ):
        lots_by_member[member_id].append(
            [lot_id, entry_id, int(points), int(remaining), expires_at]
        )
        lot_of_entry[entry_id] = lot_id
    if not lots_by_member:
        return
    # The entry whose lot a reversal took from first.
    earn_of_receipt = {
        str(ref): entry_id
        for entry_id, ref in bind.execute(
            sa.text(
                "SELECT id, reference_id FROM points_entries"
                " WHERE kind = 'earn' AND reference_type = 'receipt'"
            )
        )
    }
    bonus_of_award = {
        str(award_id): entry_id
        for award_id, entry_id in bind.execute(
            sa.text("SELECT id, entry_id FROM offer_receipts WHERE entry_id IS NOT NULL")
        )
    }
    debits: dict[int, list[tuple[int, int, str | None]]] = defaultdict(list)
    for entry_id, member_id, delta, key in bind.execute(
        sa.text(
            "SELECT id, member_id, delta, idempotency_key FROM points_entries"
            " WHERE delta < 0 ORDER BY id"
        )
    ):
        debits[member_id].append((entry_id, -int(delta), key))
    rows: list[dict[str, object]] = []
    for member_id, lots in lots_by_member.items():
        left = {int(str(lot[0])): int(str(lot[2])) for lot in lots}
        order = sorted(lots, key=lambda lot: (_ts(lot[4]), int(str(lot[0]))))
        replayed: list[dict[str, object]] = []
        ok = True
        for entry_id, points, key in debits.get(member_id, []):
            first = None
            if key and key.startswith("refund:"):
                first = earn_of_receipt.get(key.split(":")[1])
            elif key and key.startswith("offer-refund:"):
                first = bonus_of_award.get(key.split(":")[1])
            candidates = [lot_of_entry[first]] if first in lot_of_entry else []
            candidates += [int(str(lot[0])) for lot in order]
            for lot_id in candidates:
                if points == 0:
                    break
                take = min(left[lot_id], points)
                if take > 0:
                    left[lot_id] -= take
                    points -= take
                    replayed.append({"entry_id": entry_id, "lot_id": lot_id, "points": take})
            ok = ok and points == 0
        if ok and all(left[int(str(lot[0]))] == lot[3] for lot in lots):
            rows.extend(replayed)
        else:
            rows.extend(
                {"entry_id": None, "lot_id": lot[0], "points": int(str(lot[2])) - int(str(lot[3]))}
                for lot in lots
                if int(str(lot[2])) > int(str(lot[3]))
            )
    if rows:
        table = sa.table(
            "points_consumptions",
            sa.column("entry_id", sa.Integer),
            sa.column("lot_id", sa.Integer),
            sa.column("points", sa.BigInteger),
        )
        op.bulk_insert(table, rows)


def _ts(value: object) -> datetime:
    if isinstance(value, str):  # SQLite returns timestamps as text here
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=None) if value.tzinfo is None else value


def downgrade() -> None:
    op.drop_table("settlement_rows")
    op.drop_table("settlement_months")
    with op.batch_alter_table("programmes") as batch:
        batch.drop_column("point_value_micro_eur")
    op.drop_index(op.f("ix_points_consumptions_lot_id"), table_name="points_consumptions")
    op.drop_index(op.f("ix_points_consumptions_entry_id"), table_name="points_consumptions")
    op.drop_table("points_consumptions")
    with op.batch_alter_table("points_lots") as batch:
        batch.drop_constraint(
            op.f("fk_points_lots_funded_by_partner_id_partners"), type_="foreignkey"
        )
        batch.drop_column("funded_by_partner_id")
