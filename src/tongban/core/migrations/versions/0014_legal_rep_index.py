"""Index legal_entity.legal_rep_person_id (a person's deletion or lookup scanned the table).

Revision ID: 0014_legal_rep_index
Revises: 0008_merge
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_legal_rep_index"
down_revision: str | Sequence[str] | None = "0008_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_legal_entity_legal_rep_person_id"), "legal_entity", ["legal_rep_person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_legal_entity_legal_rep_person_id"), table_name="legal_entity")
