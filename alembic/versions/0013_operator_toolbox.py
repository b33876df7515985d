"""operator toolbox: closed stores, plastic card batches, member blocks, operator audit log

Revision ID: 0013_operator_toolbox
Revises: 0009_messages
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_operator_toolbox"
down_revision = "0012_settlement"
branch_labels = None
depends_on = None

# The audit log is append-only: on PostgreSQL the database itself refuses to change or
# remove an entry (no service has an update or delete path; this also stops a stray SQL).
_PG_APPEND_ONLY = (
    """
    CREATE FUNCTION operator_audit_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'operator_audit is append-only (% refused)', TG_OP;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER operator_audit_append_only
        BEFORE UPDATE OR DELETE ON operator_audit
        FOR EACH ROW EXECUTE FUNCTION operator_audit_append_only()
    """,
)


def upgrade() -> None:
    op.add_column("stores", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "card_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=8), nullable=False),
        sa.Column("operator", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_index("ix_cards_batch", "cards", ["batch"])
    op.create_table(
        "member_blocks",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("operator", sa.String(length=80), nullable=False),
        sa.Column("blocked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_table(
        "operator_audit",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator", sa.String(length=80), nullable=False),
        sa.Column("command", sa.String(length=80), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_operator_audit_at", "operator_audit", ["at"])
    op.create_index("ix_operator_audit_operator", "operator_audit", ["operator"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in _PG_APPEND_ONLY:  # asyncpg: one statement per call
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER operator_audit_append_only ON operator_audit")
        op.execute("DROP FUNCTION operator_audit_append_only()")
    op.drop_index("ix_operator_audit_operator", table_name="operator_audit")
    op.drop_index("ix_operator_audit_at", table_name="operator_audit")
    op.drop_table("operator_audit")
    op.drop_table("member_blocks")
    op.drop_index("ix_cards_batch", table_name="cards")
    op.drop_table("card_batches")
    op.drop_column("stores", "closed_at")
