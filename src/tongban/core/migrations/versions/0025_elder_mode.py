"""长辈版 and the help line (issue #23): the account's elder-mode preference, each region's 帮办热线.

Revision ID: 0025_elder_mode
Revises: 0024_merge
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_elder_mode"
down_revision: str | None = "0024_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("elder_mode", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("region") as batch:
        batch.add_column(sa.Column("help_line", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("region") as batch:
        batch.drop_column("help_line")
    with op.batch_alter_table("account") as batch:
        batch.drop_column("elder_mode")
