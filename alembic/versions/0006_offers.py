"""offers and tiers: offers as data, members' state on offers, what offers did on receipts,
tiers and the tier each member holds; receipts keep their flat offer bonuses apart

Revision ID: 0006_offers
Revises: 0005_ussd
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_offers"
down_revision = "0005_ussd"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "tiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("threshold", sa.BigInteger(), nullable=False),
        sa.Column("earn_bonus_pct", sa.Integer(), nullable=False),
        sa.Column("background_colour", sa.String(length=20), nullable=True),
        sa.Column("foreground_colour", sa.String(length=20), nullable=True),
        sa.Column("label_colour", sa.String(length=20), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tiers")),
        sa.UniqueConstraint("code", name=op.f("uq_tiers_code")),
    )
    op.create_table(
        "member_tiers",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("tier_id", sa.Integer(), nullable=False),
        sa.Column("since", TS, nullable=False),
        sa.Column("kept_until", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_tiers_member_id_members")
        ),
        sa.ForeignKeyConstraint(["tier_id"], ["tiers.id"], name=op.f("fk_member_tiers_tier_id_tiers")),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_tiers")),
    )
    op.create_index(op.f("ix_member_tiers_tier_id"), "member_tiers", ["tier_id"])
    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("funder_partner_id", sa.Integer(), nullable=True),
        sa.Column("titles", sa.JSON(), nullable=False),
        sa.Column("descriptions", sa.JSON(), nullable=False),
        sa.Column("image_url", sa.String(length=500), nullable=True),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("partner_ids", sa.JSON(), nullable=True),
        sa.Column("store_ids", sa.JSON(), nullable=True),
        sa.Column(
            "segment",
            _enum("segment", "all", "tier", "new_members", "birthday_month", "city", "dormant"),
            nullable=False,
        ),
        sa.Column("segment_value", sa.String(length=80), nullable=True),
        sa.Column(
            "mechanic",
            _enum("mechanic", "fixed_bonus", "multiplier", "spend_get", "aggregate_spend"),
            nullable=False,
        ),
        sa.Column("scope", _enum("scope", "all", "brand", "category", "sku"), nullable=False),
        sa.Column("scope_values", sa.JSON(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("multiplier_pct", sa.Integer(), nullable=False),
        sa.Column("min_spend", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("activation_required", sa.Boolean(), nullable=False),
        sa.Column("uses_per_member", sa.Integer(), nullable=True),
        sa.Column("budget_points", sa.BigInteger(), nullable=True),
        sa.Column("budget_left", sa.BigInteger(), nullable=True),
        sa.Column("status", _enum("offerstatus", "active", "paused"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint(
            "budget_left IS NULL OR budget_left >= 0", name=op.f("ck_offers_budget_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["funder_partner_id"], ["partners.id"], name=op.f("fk_offers_funder_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    op.create_index("ix_offers_status_ends_at", "offers", ["status", "ends_at"])
    op.create_table(
        "offer_members",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("activated_at", TS, nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("progress", sa.BigInteger(), nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("uses >= 0", name=op.f("ck_offer_members_uses_not_negative")),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_offer_members_offer_id_offers")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_offer_members_member_id_members")
        ),
        sa.PrimaryKeyConstraint("offer_id", "member_id", name=op.f("pk_offer_members")),
    )
    op.create_index("ix_offer_members_member_id", "offer_members", ["member_id"])
    op.create_table(
        "offer_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("receipt_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("qualifying_amount", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("points_reversed", sa.BigInteger(), nullable=False),
        sa.Column("points_uncollected", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_offer_receipts_offer_id_offers")
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"], ["receipts.id"], name=op.f("fk_offer_receipts_receipt_id_receipts")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_offer_receipts_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_receipts")),
        sa.UniqueConstraint("offer_id", "receipt_id", name=op.f("uq_offer_receipts_offer_id")),
    )
    op.create_index("ix_offer_receipts_receipt_id", "offer_receipts", ["receipt_id"])
    op.create_index("ix_offer_receipts_member_id", "offer_receipts", ["member_id"])
    with op.batch_alter_table("receipts") as batch:
        batch.add_column(
            sa.Column("bonus_points", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("receipts") as batch:
        batch.drop_column("bonus_points")
    op.drop_table("offer_receipts")
    op.drop_table("offer_members")
    op.drop_index("ix_offers_status_ends_at", table_name="offers")
    op.drop_table("offers")
    op.drop_table("member_tiers")
    op.drop_table("tiers")
