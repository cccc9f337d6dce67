"""督办 raised from the cockpit's early warnings: which warning, the department, the case filed.

Revision ID: 0027_cockpit_supervision
Revises: 0026_merge
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_cockpit_supervision"
down_revision: str | None = "0026_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cockpit_supervision",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=12), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("supervised_by", sa.String(length=64), nullable=False),
        sa.Column("supervised_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"],
                                name=op.f("fk_cockpit_supervision_department_id_department")),
        sa.ForeignKeyConstraint(["case_id"], ["case_case.id"], name=op.f("fk_cockpit_supervision_case_id_case_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cockpit_supervision")),
    )
    op.create_index("ix_cockpit_supervision_warning", "cockpit_supervision", ["rule", "region", "key"])
    op.create_index(op.f("ix_cockpit_supervision_case_id"), "cockpit_supervision", ["case_id"])


def downgrade() -> None:
    op.drop_table("cockpit_supervision")
