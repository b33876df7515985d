"""settlement: points a refund took of another funder's lots (points_transferred)

Revision ID: 0016_fix14
Revises: 0013_operator_toolbox

Rows of months closed before keep their figures; their new column is 0 (they were computed
when reversals were charged to the consumed lots' funders, so nothing was transferred).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_fix14"
down_revision = "0013_operator_toolbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("settlement_rows") as batch:
        batch.add_column(
            sa.Column("points_transferred", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("settlement_rows") as batch:
        batch.drop_column("points_transferred")
