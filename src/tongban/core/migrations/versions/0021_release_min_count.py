"""dataset.min_count: the small-count suppression threshold of aggregates over a dataset (a
pack setting, `aggregates: {min_count: N}` in datasets.yaml)

Revision ID: 0021_release_min_count
Revises: 0020_merge
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_release_min_count"
down_revision: str | None = "0020_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_count", sa.Integer(), server_default="10", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.drop_column("min_count")
