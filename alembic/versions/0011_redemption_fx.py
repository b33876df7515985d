"""redemption_fx: exchange rates, the redemption confirmation threshold, pending
confirmations, and the amounts each redemption was worth (issue 14, redeem)

Revision ID: 0011_redemption_fx
Revises: 0009_messages
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_redemption_fx"
down_revision = "0009_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_rates",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("rate", sa.Numeric(18, 6), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rate > 0", name=op.f("ck_exchange_rates_positive")),
        sa.PrimaryKeyConstraint("currency", "valid_from", name=op.f("pk_exchange_rates")),
    )
    op.create_table(
        "voucher_confirmations",
        sa.Column("voucher_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["vouchers.id"], name=op.f("fk_voucher_confirmations_voucher_id_vouchers")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_voucher_confirmations_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_voucher_confirmations_partner_id_partners"),
        ),
        sa.PrimaryKeyConstraint("voucher_id", name=op.f("pk_voucher_confirmations")),
    )
    with op.batch_alter_table("programmes") as batch:
        batch.add_column(sa.Column("redemption_confirmation_eur", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("voucher_redemptions") as batch:
        batch.add_column(sa.Column("eur_amount", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("store_amount", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("store_currency", sa.String(length=3), nullable=True))
        batch.add_column(sa.Column("fx_rate", sa.Numeric(18, 6), nullable=True))
    # Earlier redemptions of EUR vouchers: the EUR value is the face value; in a EUR store
    # the store amount is too, at rate 1. Other stores' amounts were never told: left NULL.
    op.execute(
        "UPDATE voucher_redemptions SET eur_amount = value_amount WHERE currency = 'EUR'"
    )
    op.execute(
        "UPDATE voucher_redemptions SET store_amount = value_amount, store_currency = 'EUR', "
        "fx_rate = 1 WHERE currency = 'EUR' AND store_id IN "
        "(SELECT id FROM stores WHERE currency = 'EUR')"
    )


def downgrade() -> None:
    with op.batch_alter_table("voucher_redemptions") as batch:
        batch.drop_column("fx_rate")
        batch.drop_column("store_currency")
        batch.drop_column("store_amount")
        batch.drop_column("eur_amount")
    with op.batch_alter_table("programmes") as batch:
        batch.drop_column("redemption_confirmation_eur")
    op.drop_table("voucher_confirmations")
    op.drop_table("exchange_rates")
