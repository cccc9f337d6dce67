"""Merge session 6's four branches into one head: certificate public ids (harden), the dataset
small-count threshold (release), working-day schedules per year (time) and policy digests with
the runs' policy hashes (twins).

Revision ID: 0022_merge
Revises: 0021_harden_cert_public_id, 0021_release_min_count, 0021_time_calendar, 0021_twins_policy_digests
Create Date: 2026-12-06
"""

from collections.abc import Sequence

revision: str = "0022_merge"
down_revision: str | Sequence[str] | None = ("0021_harden_cert_public_id", "0021_release_min_count",
                                             "0021_time_calendar", "0021_twins_policy_digests")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
