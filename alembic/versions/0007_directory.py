"""public coalition directory: partners' logos, stores' addresses, and the version every
process's cached directory is checked against

Revision ID: 0007_directory
Revises: 0006_offers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_directory"
down_revision = "0006_offers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("logo_url", sa.String(length=500), nullable=True))
    with op.batch_alter_table("stores") as batch:
        batch.add_column(sa.Column("address", sa.String(length=200), nullable=True))
    op.create_table(
        "directory_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_version")),
    )


def downgrade() -> None:
    op.drop_table("directory_version")
    with op.batch_alter_table("stores") as batch:
        batch.drop_column("address")
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("logo_url")
