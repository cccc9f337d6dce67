"""policies of the loaded pack by digest (pol_policy_digest) and the digests a screening run
evaluated (scr_run.policy_hashes)

Revision ID: 0021_twins_policy_digests
Revises: 0020_merge
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_twins_policy_digests"
down_revision: str | None = "0020_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pol_policy_digest",
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("policy_id", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("pack_id", "version", "policy_id", name=op.f("pk_pol_policy_digest")),
    )
    with op.batch_alter_table("scr_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("policy_hashes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scr_run", schema=None) as batch_op:
        batch_op.drop_column("policy_hashes")
    op.drop_table("pol_policy_digest")
