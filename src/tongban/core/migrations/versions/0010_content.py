"""公示 (public notice) on tasks: the notice's last day, and room for the `public_notice` status.

Revision ID: 0010_content
Revises: 0008_merge
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_content"
down_revision: str | Sequence[str] | None = "0008_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("svc_task") as batch:
        batch.alter_column("status", existing_type=sa.String(12), type_=sa.String(20), existing_nullable=False)
        batch.add_column(sa.Column("notice_ends_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("svc_task") as batch:
        batch.drop_column("notice_ends_on")
        batch.alter_column("status", existing_type=sa.String(20), type_=sa.String(12), existing_nullable=False)
