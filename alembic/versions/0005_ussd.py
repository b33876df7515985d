"""ussd: gateway tokens, USSD dialogues, what they remember and the replies they gave

Revision ID: 0005_ussd
Revises: 0004_outbox
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_ussd"
down_revision = "0004_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ussd_gateways",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ussd_gateways")),
        sa.UniqueConstraint("prefix", name=op.f("uq_ussd_gateways_prefix")),
    )
    op.create_table(
        "ussd_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gateway_key", sa.String(length=40), nullable=False),
        sa.Column("session_id", sa.String(length=100), nullable=False),
        sa.Column("phone_e164", sa.String(length=16), nullable=False),
        sa.Column("started_as_member", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ussd_sessions")),
        sa.UniqueConstraint(
            "gateway_key", "session_id", name=op.f("uq_ussd_sessions_gateway_key_session_id")
        ),
    )
    op.create_index(
        op.f("ix_ussd_sessions_expires_at"), "ussd_sessions", ["expires_at"], unique=False
    )
    op.create_table(
        "ussd_session_values",
        sa.Column("session_pk", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_pk"],
            ["ussd_sessions.id"],
            name=op.f("fk_ussd_session_values_session_pk_ussd_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_pk", "key", name=op.f("pk_ussd_session_values")),
    )
    op.create_table(
        "ussd_replies",
        sa.Column("session_pk", sa.Integer(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_pk"],
            ["ussd_sessions.id"],
            name=op.f("fk_ussd_replies_session_pk_ussd_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_pk", "text_hash", name=op.f("pk_ussd_replies")),
    )


def downgrade() -> None:
    op.drop_table("ussd_replies")
    op.drop_table("ussd_session_values")
    op.drop_index(op.f("ix_ussd_sessions_expires_at"), table_name="ussd_sessions")
    op.drop_table("ussd_sessions")
    op.drop_table("ussd_gateways")
