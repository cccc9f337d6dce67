"""Registry API: a unique index on the benefit enrolment natural key (subject, benefit, start date),
which registry imports upsert on.

Revision ID: 0003_registry_api
Revises: 0007_datahub_exports
Create Date: 2026-11-22 11:00:12.943458
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0003_registry_api'
down_revision: str | None = '0007_datahub_exports'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('benefit_enrolment', schema=None) as batch_op:
        batch_op.create_index('uq_enrolment_natural_key', ['subject_kind', 'subject_id', 'benefit_code', 'start_date'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('benefit_enrolment', schema=None) as batch_op:
        batch_op.drop_index('uq_enrolment_natural_key')
