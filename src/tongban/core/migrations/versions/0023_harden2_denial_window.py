"""Refusals coalesced per actor, action and minute (issue #18 item 5): a counter table outside
the audit chain; one chained event per window (`tongban.core.audit.denials`).

Revision ID: 0023_harden2_denial_window
Revises: 0022_merge
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tongban.core.db import UTCDateTime

revision: str = "0023_harden2_denial_window"
down_revision: str | Sequence[str] | None = "0022_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_denial_window",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("actor_department", sa.String(length=64), nullable=True),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_denial_window")),
        sa.UniqueConstraint("actor", "action", "window_start", name="uq_audit_denial_window"),
    )
    op.create_index(op.f("ix_audit_denial_window_window_start"), "audit_denial_window", ["window_start"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_denial_window_window_start"), table_name="audit_denial_window")
    op.drop_table("audit_denial_window")
