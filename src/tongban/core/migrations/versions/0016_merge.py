"""Merge the engine, content, governance, registry-index and screening branches into one head.

Revision ID: 0016_merge
Revises: 0009_engine, 0010_content, 0013_governance, 0014_legal_rep_index, 0015_screening
Create Date: 2026-11-28
"""

from collections.abc import Sequence

revision: str = "0016_merge"
down_revision: str | Sequence[str] | None = (
    "0009_engine", "0010_content", "0013_governance", "0014_legal_rep_index", "0015_screening",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
