"""Follow-ups: drop svc_prefill_consent (prefill consents are the data hub's Consent; nothing
has written the table since), and record the one-thing items an application chose
(svc_application.items; empty on older rows, which applied for every item).

Revision ID: 0017_followups
Revises: 0016_merge
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tongban.core.db

revision: str = "0017_followups"
down_revision: str | Sequence[str] | None = "0016_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("svc_application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("items", sa.JSON(), nullable=True))
    with op.batch_alter_table("svc_prefill_consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_svc_prefill_consent_account_id"))
    op.drop_table("svc_prefill_consent")


def downgrade() -> None:
    op.create_table(
        "svc_prefill_consent",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("onething_id", sa.String(length=64), nullable=False),
        sa.Column("application_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", tongban.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", tongban.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_svc_prefill_consent_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_svc_prefill_consent")),
    )
    with op.batch_alter_table("svc_prefill_consent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_svc_prefill_consent_account_id"), ["account_id"], unique=False)
    with op.batch_alter_table("svc_application", schema=None) as batch_op:
        batch_op.drop_column("items")
