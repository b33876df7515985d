"""outbox: one durable outbox for every after-commit event subscriber

Replaces the wallet's own push outbox: its rows were per device and per Google object;
the new rows are per subscriber and event, and their handlers read the current state.
Rows still pending in ``wallet_outbox`` become one wallet delivery per member.

Revision ID: 0004_outbox
Revises: 0003_wallet
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_outbox"
down_revision = "0003_wallet"
branch_labels = None
depends_on = None

STATUSES = ("pending", "sending", "done", "dropped", "superseded", "failed")


def upgrade() -> None:
    outbox = op.create_table(
        "outbox_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subscriber", sa.String(length=60), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("coalesce_key", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="outboxstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_index(
        "ix_outbox_messages_status_next_attempt_at",
        "outbox_messages",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_index(
        "ix_outbox_messages_subscriber_coalesce_key",
        "outbox_messages",
        ["subscriber", "coalesce_key"],
        unique=False,
    )
    # Undelivered wallet rows: one push and one Google update per member, now.
    bind = op.get_bind()
    pending = bind.execute(
        sa.text(
            "SELECT DISTINCT p.member_id, o.kind FROM wallet_outbox o "
            "JOIN wallet_passes p ON p.id = o.pass_id "
            "WHERE o.status IN ('pending', 'sending')"
        )
    ).all()
    now = sa.func.now() if bind.dialect.name == "postgresql" else sa.func.current_timestamp()
    for member_id, kind in pending:
        subscriber = "wallet.apple_push" if kind == "apns" else "wallet.google_update"
        payload = (
            '{"at":"2026-01-01T00:00:00+00:00","balance":0,"delta":0,"entry_id":0,'
            f'"kind":"adjustment","member_id":{int(member_id)}}}'
        )
        op.execute(
            outbox.insert().values(
                subscriber=subscriber,
                event_type="BalanceChanged",
                payload=payload,
                coalesce_key=f"member:{int(member_id)}",
                status="pending",
                attempts=0,
                created_at=now,
                next_attempt_at=now,
            )
        )
    op.drop_index("ix_wallet_outbox_status_next_attempt_at", table_name="wallet_outbox")
    op.drop_table("wallet_outbox")


def downgrade() -> None:
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
    op.drop_index("ix_outbox_messages_subscriber_coalesce_key", table_name="outbox_messages")
    op.drop_index("ix_outbox_messages_status_next_attempt_at", table_name="outbox_messages")
    op.drop_table("outbox_messages")
