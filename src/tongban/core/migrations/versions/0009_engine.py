"""engine: materials, drafts, proxies, deadlines, revocation, prefill consent

Revision ID: 0009_engine
Revises: 0008_merge
Create Date: 2026-11-28

Applications gain their filer (proxy, guardian, counter) and drafts; idempotency keys become
the filer's; tasks gain deadline flags; materials, proxy authorisations and certificate
revocations get tables; a data-hub consent may be scoped to a one-thing (prefill).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.core.db

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

revision: str = '0009_engine'
down_revision: str | None = '0008_merge'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('svc_certificate_revocation',
    sa.Column('certificate_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('department_id', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('revoked_by', sa.String(length=64), nullable=False),
    sa.Column('revoked_at', tongban.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], name=op.f('fk_svc_certificate_revocation_certificate_id_certificate')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_svc_certificate_revocation_department_id_department')),
    sa.PrimaryKeyConstraint('certificate_id', name=op.f('pk_svc_certificate_revocation'))
    )
    op.create_table('svc_authorisation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('grantor_person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('proxy_person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('valid_until', tongban.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', tongban.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', tongban.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['grantor_person_id'], ['person.id'], name=op.f('fk_svc_authorisation_grantor_person_id_person')),
    sa.ForeignKeyConstraint(['proxy_person_id'], ['person.id'], name=op.f('fk_svc_authorisation_proxy_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_svc_authorisation'))
    )
    with op.batch_alter_table('svc_authorisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_svc_authorisation_grantor_person_id'), ['grantor_person_id'], unique=False)
        batch_op.create_index('ix_svc_authorisation_proxy', ['proxy_person_id', 'grantor_person_id'], unique=False)

    op.create_table('svc_application_material',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('material_id', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=64), nullable=True),
    sa.Column('certificate_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', tongban.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['svc_application.id'], name=op.f('fk_svc_application_material_application_id_svc_application')),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], name=op.f('fk_svc_application_material_certificate_id_certificate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_svc_application_material'))
    )
    with op.batch_alter_table('svc_application_material', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_svc_application_material_application_id'), ['application_id'], unique=False)

    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=64), nullable=True))
        batch_op.alter_column('grantee_department_id',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)
        batch_op.alter_column('dataset_id',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)

    with op.batch_alter_table('svc_application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('filed_by_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('filing', sa.String(length=12), nullable=False, server_default='self'))
        batch_op.add_column(sa.Column('filing_consent', sa.JSON(), nullable=True))
        batch_op.alter_column('applicant_account_id',
               existing_type=BIG_ID,
               nullable=True)
        batch_op.drop_constraint(batch_op.f('uq_svc_application_applicant_account_id'), type_='unique')
        batch_op.create_index(batch_op.f('ix_svc_application_filed_by_account_id'), ['filed_by_account_id'], unique=False)
    # Every application so far was filed by its applicant.
    op.execute(sa.text("UPDATE svc_application SET filed_by_account_id = applicant_account_id"))
    with op.batch_alter_table('svc_application', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_svc_application_filed_by_account_id'), ['filed_by_account_id', 'idempotency_key'])
        batch_op.create_foreign_key(batch_op.f('fk_svc_application_filed_by_account_id_account'), 'account', ['filed_by_account_id'], ['id'])

    with op.batch_alter_table('svc_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warned_at', tongban.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('overdue_at', tongban.core.db.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('svc_task', schema=None) as batch_op:
        batch_op.drop_column('overdue_at')
        batch_op.drop_column('warned_at')

    with op.batch_alter_table('svc_application', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_svc_application_filed_by_account_id_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_svc_application_filed_by_account_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_svc_application_filed_by_account_id'))
        batch_op.create_unique_constraint(batch_op.f('uq_svc_application_applicant_account_id'), ['applicant_account_id', 'idempotency_key'])
        batch_op.alter_column('applicant_account_id',
               existing_type=BIG_ID,
               nullable=False)
        batch_op.drop_column('filing_consent')
        batch_op.drop_column('filing')
        batch_op.drop_column('filed_by_account_id')

    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.alter_column('dataset_id',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.alter_column('grantee_department_id',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.drop_column('scope')

    with op.batch_alter_table('svc_application_material', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_svc_application_material_application_id'))

    op.drop_table('svc_application_material')
    with op.batch_alter_table('svc_authorisation', schema=None) as batch_op:
        batch_op.drop_index('ix_svc_authorisation_proxy')
        batch_op.drop_index(batch_op.f('ix_svc_authorisation_grantor_person_id'))

    op.drop_table('svc_authorisation')
    op.drop_table('svc_certificate_revocation')
