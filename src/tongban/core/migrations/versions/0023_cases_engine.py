"""The case engine (issue #25): categories, dispatch rules and settings from the pack; cases,
their timeline and attachments; Open311 API keys.

Revision ID: 0023_cases_engine
Revises: 0022_merge
Create Date: 2026-12-06 13:17:06.144139
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.core.db

revision: str = '0023_cases_engine'
down_revision: str | None = '0022_merge'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_category',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('default_type', sa.String(length=12), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('pack_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_category'))
    )
    op.create_table('case_open311_key',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', tongban.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', tongban.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_open311_key')),
    sa.UniqueConstraint('digest', name=op.f('uq_case_open311_key_digest'))
    )
    op.create_table('case_setting',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('pack_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_case_setting'))
    )
    op.create_table('case_dispatch_rule',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('category_id', sa.String(length=64), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('department_id', sa.String(length=64), nullable=False),
    sa.Column('assist', sa.JSON(), nullable=False),
    sa.Column('pack_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_case_dispatch_rule_department_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_dispatch_rule'))
    )
    with op.batch_alter_table('case_dispatch_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_dispatch_rule_category_id'), ['category_id'], unique=False)

    op.create_table('case_case',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('type', sa.String(length=12), nullable=False),
    sa.Column('category_id', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('datum', sa.String(length=10), nullable=True),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('reporter_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reporter_name', sa.String(length=64), nullable=True),
    sa.Column('reporter_phone', sa.String(length=20), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('filed_by', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('department_id', sa.String(length=64), nullable=True),
    sa.Column('assist_department_ids', sa.JSON(), nullable=False),
    sa.Column('clock_started_on', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('overdue_at', tongban.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('supervisions', sa.Integer(), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_at', tongban.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', tongban.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rating_source', sa.String(length=8), nullable=True),
    sa.Column('visited_at', tongban.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('api_key_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', tongban.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tongban.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_case_case_department_id_department')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['case_case.id'], name=op.f('fk_case_case_merged_into_id_case_case')),
    sa.ForeignKeyConstraint(['reporter_account_id'], ['account.id'], name=op.f('fk_case_case_reporter_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_case')),
    sa.UniqueConstraint('public_id', name=op.f('uq_case_case_public_id'))
    )
    with op.batch_alter_table('case_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_case_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_case_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_case_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_case_reporter_account_id'), ['reporter_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_case_status'), ['status'], unique=False)
        batch_op.create_index('ix_case_queue', ['department_id', 'status', 'id'], unique=False)

    op.create_table('case_attachment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', tongban.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_case.id'], name=op.f('fk_case_attachment_case_id_case_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_attachment'))
    )
    with op.batch_alter_table('case_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_attachment_case_id'), ['case_id'], unique=False)

    op.create_table('case_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', tongban.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('department_id', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_case.id'], name=op.f('fk_case_event_case_id_case_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_event'))
    )
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_event_case_id'), ['case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_event_case_id'))

    op.drop_table('case_event')
    with op.batch_alter_table('case_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_attachment_case_id'))

    op.drop_table('case_attachment')
    with op.batch_alter_table('case_case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_queue')
        batch_op.drop_index(batch_op.f('ix_case_case_status'))
        batch_op.drop_index(batch_op.f('ix_case_case_reporter_account_id'))
        batch_op.drop_index(batch_op.f('ix_case_case_region_code'))
        batch_op.drop_index(batch_op.f('ix_case_case_merged_into_id'))
        batch_op.drop_index(batch_op.f('ix_case_case_category_id'))

    op.drop_table('case_case')
    with op.batch_alter_table('case_dispatch_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_dispatch_rule_category_id'))

    op.drop_table('case_dispatch_rule')
    op.drop_table('case_setting')
    op.drop_table('case_open311_key')
    op.drop_table('case_category')
