"""governance: quality rules, runs, scores and issues; service halls; open-data applications

Revision ID: 0013_governance
Revises: 0008_merge
Create Date: 2026-11-28 20:58:30.704457
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.core.db

revision: str = '0013_governance'
down_revision: str | None = '0008_merge'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('dataset', schema=None) as batch_op:
        batch_op.add_column(sa.Column('theme', sa.String(length=8), nullable=True))
    op.create_table('quality_run',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('dataset_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('requested_by', sa.String(length=80), nullable=False),
    sa.Column('rules', sa.Integer(), nullable=False),
    sa.Column('failed_rules', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('created_at', tongban.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', tongban.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_run'))
    )
    op.create_table('service_hall',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=300), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('opening_hours', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('updated_at', tongban.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_hall'))
    )
    op.create_table('quality_result',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=False),
    sa.Column('dataset_id', sa.String(length=64), nullable=False),
    sa.Column('checked', sa.BigInteger(), nullable=False),
    sa.Column('failed', sa.BigInteger(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['quality_run.id'], name=op.f('fk_quality_result_run_id_quality_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_result'))
    )
    with op.batch_alter_table('quality_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_result_run_id'), ['run_id'], unique=False)

    op.create_table('quality_score',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dataset_id', sa.String(length=64), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.Column('at', tongban.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['quality_run.id'], name=op.f('fk_quality_score_run_id_quality_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_score'))
    )
    with op.batch_alter_table('quality_score', schema=None) as batch_op:
        batch_op.create_index('ix_quality_score_dataset_at', ['dataset_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_score_run_id'), ['run_id'], unique=False)

    op.create_table('quality_issue',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=False),
    sa.Column('dataset_id', sa.String(length=64), nullable=False),
    sa.Column('department_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('checked', sa.BigInteger(), nullable=False),
    sa.Column('failed', sa.BigInteger(), nullable=False),
    sa.Column('samples', sa.JSON(), nullable=False),
    sa.Column('plan', sa.Text(), nullable=True),
    sa.Column('verifications', sa.Integer(), nullable=False),
    sa.Column('last_run_id', sa.BigInteger(), nullable=True),
    sa.Column('opened_at', tongban.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tongban.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', tongban.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_quality_issue_department_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_issue'))
    )
    with op.batch_alter_table('quality_issue', schema=None) as batch_op:
        batch_op.create_index('ix_quality_issue_dept_status', ['department_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_issue_rule_id'), ['rule_id'], unique=False)

    op.create_table('open_application',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('dataset_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('purpose', sa.String(length=500), nullable=False),
    sa.Column('terms_version', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decided_by', sa.String(length=80), nullable=True),
    sa.Column('decision_reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', tongban.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', tongban.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('valid_to', tongban.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_open_application_account_id_account')),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_open_application_dataset_id_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open_application'))
    )
    with op.batch_alter_table('open_application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open_application_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_open_application_dataset_id'), ['dataset_id'], unique=False)

    op.create_table('quality_rule',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('dataset_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('description_zh', sa.String(length=500), nullable=False),
    sa.Column('description_en', sa.String(length=500), nullable=False),
    sa.Column('pack_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_quality_rule_dataset_id_dataset'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_rule'))
    )
    with op.batch_alter_table('quality_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_rule_dataset_id'), ['dataset_id'], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('quality_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_rule_dataset_id'))

    op.drop_table('quality_rule')
    with op.batch_alter_table('open_application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open_application_dataset_id'))
        batch_op.drop_index(batch_op.f('ix_open_application_account_id'))

    op.drop_table('open_application')
    with op.batch_alter_table('quality_issue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_issue_rule_id'))
        batch_op.drop_index('ix_quality_issue_dept_status')

    op.drop_table('quality_issue')
    with op.batch_alter_table('quality_score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_score_run_id'))
        batch_op.drop_index('ix_quality_score_dataset_at')

    op.drop_table('quality_score')
    with op.batch_alter_table('quality_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_result_run_id'))

    op.drop_table('quality_result')
    op.drop_table('service_hall')
    op.drop_table('quality_run')
    # ### end Alembic commands ###
    with op.batch_alter_table('dataset', schema=None) as batch_op:
        batch_op.drop_column('theme')
