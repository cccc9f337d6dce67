"""The cockpit's rollup: each indicator's cells of a day summed up the region tree per department,
so the one screen reads a few rows per region instead of every cell (issue #31); and whether an
indicator's rollup is complete (existing indicators: rebuilt from their cells on the next refresh).

Revision ID: 0027_cockpit_rollup
Revises: 0026_merge
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_cockpit_rollup"
down_revision: str | None = "0026_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cockpit_rollup",
        sa.Column("indicator", sa.String(length=80), primary_key=True),
        sa.Column("department", sa.String(length=64), primary_key=True),
        sa.Column("node", sa.String(length=13), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("cells", sa.Integer(), nullable=False),
        *(sa.Column(f"m{i}", sa.Float(), nullable=False) for i in range(6)),
    )
    op.create_index("ix_cockpit_rollup_day", "cockpit_rollup", ["indicator", "department", "day"])
    with op.batch_alter_table("cockpit_state") as batch:
        batch.add_column(sa.Column("rollup", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("cockpit_state") as batch:
        batch.drop_column("rollup")
    op.drop_index("ix_cockpit_rollup_day", table_name="cockpit_rollup")
    op.drop_table("cockpit_rollup")
