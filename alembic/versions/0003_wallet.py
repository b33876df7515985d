"""wallet: pass records, Apple device registrations, push outbox

Revision ID: 0003_wallet
Revises: 0002_pos
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_wallet"
down_revision = "0002_pos"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_passes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("serial_number", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.id"], name=op.f("fk_wallet_passes_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_wallet_passes_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_passes")),
        sa.UniqueConstraint("card_id", name=op.f("uq_wallet_passes_card_id")),
        sa.UniqueConstraint("serial_number", name=op.f("uq_wallet_passes_serial_number")),
    )
    op.create_index(
        op.f("ix_wallet_passes_member_id"), "wallet_passes", ["member_id"], unique=False
    )
    op.create_table(
        "wallet_device_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_library_id", sa.String(length=128), nullable=False),
        sa.Column("pass_type_id", sa.String(length=128), nullable=False),
        sa.Column("pass_id", sa.Integer(), nullable=False),
        sa.Column("push_token", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pass_id"],
            ["wallet_passes.id"],
            name=op.f("fk_wallet_device_registrations_pass_id_wallet_passes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_device_registrations")),
        sa.UniqueConstraint(
            "device_library_id",
            "pass_type_id",
            "pass_id",
            name="uq_wallet_device_registrations_device_pass",
        ),
    )
    op.create_index(
        "ix_wallet_device_registrations_pass_id",
        "wallet_device_registrations",
        ["pass_id"],
        unique=False,
    )
    op.create_table(
        "wallet_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("apns", "google_patch", name="outboxkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("pass_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "dropped",
                "superseded",
                "failed",
                name="outboxstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pass_id"],
            ["wallet_passes.id"],
            name=op.f("fk_wallet_outbox_pass_id_wallet_passes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_outbox")),
    )
    op.create_index(
        "ix_wallet_outbox_status_next_attempt_at",
        "wallet_outbox",
        ["status", "next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_wallet_outbox_status_next_attempt_at", table_name="wallet_outbox")
    op.drop_table("wallet_outbox")
    op.drop_index(
        "ix_wallet_device_registrations_pass_id", table_name="wallet_device_registrations"
    )
    op.drop_table("wallet_device_registrations")
    op.drop_index(op.f("ix_wallet_passes_member_id"), table_name="wallet_passes")
    op.drop_table("wallet_passes")
