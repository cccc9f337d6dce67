"""Merge session 9's heads into one: the cockpit's rollup (the one screen's sums up the region
tree) and the record of 督办 raised from early warnings.

Revision ID: 0028_merge
Revises: 0027_cockpit_rollup, 0027_cockpit_supervision
Create Date: 2026-12-06
"""

from collections.abc import Sequence

revision: str = "0028_merge"
down_revision: str | Sequence[str] | None = ("0027_cockpit_rollup", "0027_cockpit_supervision")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
