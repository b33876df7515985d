"""fraud limits: limits as data, counters per period, alerts; programmes.limits_version

Revision ID: 0010_fraud_limits
Revises: 0009_messages
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_fraud_limits"
down_revision = "0011_redemption_fx"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("limits_version", sa.String(length=32), server_default="", nullable=False)
        )
    op.create_table(
        "fraud_limits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=4), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_fraud_limits_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_fraud_limits_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_limits")),
        sa.UniqueConstraint(
            "kind", "severity", "scope", name=op.f("uq_fraud_limits_kind_severity_scope")
        ),
    )
    op.create_table(
        "fraud_counters",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "subject", "period", name=op.f("pk_fraud_counters")),
    )
    op.create_table(
        "fraud_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("limit_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=4), nullable=False),
        sa.Column("limit_value", sa.BigInteger(), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("observed", sa.BigInteger(), nullable=False),
        sa.Column("breaches", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("cashier_id", sa.String(length=40), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["limit_id"],
            ["fraud_limits.id"],
            name=op.f("fk_fraud_alerts_limit_id_fraud_limits"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_alerts")),
    )
    op.create_index("ix_fraud_alerts_last_at", "fraud_alerts", ["last_at"], unique=False)
    op.create_index(
        "uq_fraud_alerts_open",
        "fraud_alerts",
        ["limit_id", "subject", "period"],
        unique=True,
        sqlite_where=sa.text("acknowledged_at IS NULL"),
        postgresql_where=sa.text("acknowledged_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_fraud_alerts_open", table_name="fraud_alerts")
    op.drop_index("ix_fraud_alerts_last_at", table_name="fraud_alerts")
    op.drop_table("fraud_alerts")
    op.drop_table("fraud_counters")
    op.drop_table("fraud_limits")
    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.drop_column("limits_version")
