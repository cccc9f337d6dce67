"""An index on `person.phone`: the 12345 caller lookup (`datahub.persons.search_persons`, by phone)
read every person of the region without one.

Revision ID: 0025_person_phone_index
Revises: 0024_merge
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025_person_phone_index"
down_revision: str | Sequence[str] | None = "0024_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_person_phone", "person", ["phone"])


def downgrade() -> None:
    op.drop_index("ix_person_phone", table_name="person")
