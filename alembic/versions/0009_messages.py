"""messages: member messages, push devices, campaigns, scheduled jobs

Revision ID: 0009_messages
Revises: 0008_kiosk
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_messages"
down_revision = "0008_kiosk"
branch_labels = None
depends_on = None

CHANNELS = ("sms", "viber", "email", "push")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("trigger", sa.String(length=30), nullable=False),
        sa.Column("channel", _enum("channel", *CHANNELS), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("bonus_points", sa.BigInteger(), nullable=False),
        sa.Column("budget_points", sa.BigInteger(), nullable=True),
        sa.Column("spent_points", sa.BigInteger(), nullable=False),
        sa.Column("conversion_days", sa.Integer(), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", _enum("campaignstatus", "active", "paused", "done"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("code", name=op.f("uq_campaigns_code")),
    )
    op.create_table(
        "member_messages",
        _id(),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("event_key", sa.String(length=120), nullable=False),
        sa.Column("channel", _enum("channel", *CHANNELS), nullable=False),
        sa.Column("category", _enum("category", "transactional", "marketing"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column(
            "status",
            _enum(
                "messagestatus", "pending", "sending", "sent", "failed", "opted_out", "cancelled"
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("provider_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_messages_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_member_messages_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_messages")),
        sa.UniqueConstraint(
            "member_id",
            "kind",
            "event_key",
            "channel",
            name=op.f("uq_member_messages_member_id_kind_event_key_channel"),
        ),
    )
    op.create_index(
        "ix_member_messages_status_next_attempt_at",
        "member_messages",
        ["status", "next_attempt_at"],
    )
    op.create_index("ix_member_messages_campaign_id", "member_messages", ["campaign_id"])
    op.create_index(op.f("ix_member_messages_member_id"), "member_messages", ["member_id"])
    op.create_table(
        "push_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("platform", _enum("pushplatform", "android", "ios"), nullable=False),
        sa.Column("token", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_push_devices_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_devices")),
        sa.UniqueConstraint("token", name=op.f("uq_push_devices_token")),
    )
    op.create_index(op.f("ix_push_devices_member_id"), "push_devices", ["member_id"])
    op.create_table(
        "scheduled_jobs",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_result", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduled_jobs")),
    )


def downgrade() -> None:
    op.drop_table("scheduled_jobs")
    op.drop_index(op.f("ix_push_devices_member_id"), table_name="push_devices")
    op.drop_table("push_devices")
    op.drop_index(op.f("ix_member_messages_member_id"), table_name="member_messages")
    op.drop_index("ix_member_messages_campaign_id", table_name="member_messages")
    op.drop_index("ix_member_messages_status_next_attempt_at", table_name="member_messages")
    op.drop_table("member_messages")
    op.drop_table("campaigns")
