"""The cockpit's store of cells, refresh state, pack settings and early warnings.

Revision ID: 0025_cockpit_store
Revises: 0024_merge
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_cockpit_store"
down_revision: str | None = "0024_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cockpit_cell",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("indicator", sa.String(length=80), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("region", sa.String(length=12), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.UniqueConstraint("indicator", "day", "region", "key", name="uq_cockpit_cell"),
    )
    op.create_index("ix_cockpit_cell_indicator_day", "cockpit_cell", ["indicator", "day"])
    op.create_table(
        "cockpit_state",
        sa.Column("indicator", sa.String(length=80), primary_key=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day_from", sa.Date(), nullable=False),
        sa.Column("day_to", sa.Date(), nullable=False),
        sa.Column("cells", sa.Integer(), nullable=False),
    )
    op.create_table(
        "cockpit_setting",
        sa.Column("key", sa.String(length=40), primary_key=True),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("pack_id", sa.String(length=64), nullable=False),
    )
    op.create_table(
        "cockpit_warning",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("indicator", sa.String(length=80), nullable=False),
        sa.Column("region", sa.String(length=12), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("previous", sa.Float(), nullable=True),
        sa.Column("subjects", sa.Float(), nullable=True),
        sa.Column("actor_kind", sa.String(length=12), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("href", sa.String(length=300), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_cockpit_warning_rule", "cockpit_warning", ["rule"])
    op.create_index("ix_cockpit_warning_region", "cockpit_warning", ["region"])
    op.create_index("ix_cockpit_warning_actor", "cockpit_warning", ["actor"])


def downgrade() -> None:
    for name in ("cockpit_warning", "cockpit_setting", "cockpit_state", "cockpit_cell"):
        op.drop_table(name)
