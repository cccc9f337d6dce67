"""Merge the follow-ups (optional items, svc_prefill_consent dropped) and screening (medical
settlements, Parquet-source runs) branches into one head.

Revision ID: 0020_merge
Revises: 0017_followups, 0019_screen10m
Create Date: 2026-11-29
"""

from collections.abc import Sequence

revision: str = "0020_merge"
down_revision: str | Sequence[str] | None = ("0017_followups", "0019_screen10m")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
