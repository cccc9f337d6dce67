"""Merge the registry-import and services branches into one head.

Revision ID: 0008_merge
Revises: 0003_registry_api, 0005_services
Create Date: 2026-11-22
"""

from collections.abc import Sequence

revision: str = "0008_merge"
down_revision: str | Sequence[str] | None = ("0003_registry_api", "0005_services")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
