"""screening over Parquet views and medical bills: scr_run.source, scr_case without a person
foreign key (a Parquet run lists subjects the registry need not hold), medical_settlement

Revision ID: 0019_screen10m
Revises: 0016_merge
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_screen10m"
down_revision: str | None = "0016_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "medical_settlement",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("person_id", BIG_ID, nullable=False),
        sa.Column("settled_on", sa.Date(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("fund_paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("out_of_pocket_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_medical_settlement_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medical_settlement")),
    )
    with op.batch_alter_table("medical_settlement", schema=None) as batch_op:
        batch_op.create_index("ix_medical_settlement_person", ["person_id", "settled_on"], unique=False)
    with op.batch_alter_table("scr_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=400), nullable=True))
    with op.batch_alter_table("scr_case", schema=None) as batch_op:
        batch_op.drop_constraint("fk_scr_case_person_id_person", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("scr_case", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_scr_case_person_id_person", "person", ["person_id"], ["id"])
    with op.batch_alter_table("scr_run", schema=None) as batch_op:
        batch_op.drop_column("source")
    with op.batch_alter_table("medical_settlement", schema=None) as batch_op:
        batch_op.drop_index("ix_medical_settlement_person")
    op.drop_table("medical_settlement")
