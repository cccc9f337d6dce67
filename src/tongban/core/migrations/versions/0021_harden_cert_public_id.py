"""Opaque public ids of certificates: a random 128-bit token per certificate for the verify
links (QR codes) instead of the sequential id, so the links cannot be enumerated. Existing
certificates get one too; their numeric links already printed keep verifying (with less shown).

Revision ID: 0021_harden_cert_public_id
Revises: 0020_merge
Create Date: 2026-12-06
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_harden_cert_public_id"
down_revision: str | Sequence[str] | None = "0020_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _token() -> str:
    # As tongban.registry.models.new_public_id (a migration does not import the models): never
    # all digits, so a verify link tells an opaque id from an old numeric one.
    while (token := secrets.token_hex(16)).isdigit():
        pass
    return token


def upgrade() -> None:
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_id", sa.String(length=32), nullable=True))
    certificate = sa.table("certificate", sa.column("id", sa.BigInteger), sa.column("public_id", sa.String))
    conn = op.get_bind()
    ids = [row.id for row in conn.execute(sa.select(certificate.c.id).where(certificate.c.public_id.is_(None)))]
    for cid in ids:
        conn.execute(certificate.update().where(certificate.c.id == cid).values(public_id=_token()))
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.alter_column("public_id", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_certificate_public_id"), ["public_id"])


def downgrade() -> None:
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_certificate_public_id"), type_="unique")
        batch_op.drop_column("public_id")
