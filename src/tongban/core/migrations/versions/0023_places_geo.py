"""Places on one map: address coordinates (WGS-84), region shapes (community centres, district
outlines), place categories and places with their near-me grid cell.

Revision ID: 0023_places_geo
Revises: 0022_merge
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_places_geo"
down_revision: str | None = "0022_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("address", schema=None) as batch_op:
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
    op.create_table(
        "region_shape",
        sa.Column("code", sa.String(length=12), sa.ForeignKey("region.code", ondelete="CASCADE"), primary_key=True),
        sa.Column("centre_lon", sa.Float(), nullable=True),
        sa.Column("centre_lat", sa.Float(), nullable=True),
        sa.Column("outline", sa.JSON(), nullable=True),
        sa.Column("demo", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "place_category",
        sa.Column("code", sa.String(length=32), primary_key=True),
        sa.Column("title_zh", sa.String(length=100), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("walking_radius_m", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_table(
        "place",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(length=64), nullable=False, unique=True),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column("hours", sa.JSON(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("accessibility", sa.JSON(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_place_category_cell", "place", ["category", "cell"])
    op.create_index("ix_place_cell", "place", ["cell"])
    op.create_index("ix_place_region_code", "place", ["region_code"])


def downgrade() -> None:
    op.drop_table("place")
    op.drop_table("place_category")
    op.drop_table("region_shape")
    with op.batch_alter_table("address", schema=None) as batch_op:
        batch_op.drop_column("latitude")
        batch_op.drop_column("longitude")
