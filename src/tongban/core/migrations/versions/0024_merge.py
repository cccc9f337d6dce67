"""Merge session 7's branches into one head: issued codes (codes), the refusal windows of the audit
chain (harden2), the messaging slice's inboxes and outbox (messages), places and coordinates
(places) and the case engine (cases).

Revision ID: 0024_merge
Revises: 0023_codes_issued, 0023_harden2_denial_window, 0023_messages_slice, 0023_places_geo,
    0023_cases_engine
Create Date: 2026-12-06
"""

from collections.abc import Sequence

revision: str = "0024_merge"
down_revision: str | Sequence[str] | None = ("0023_codes_issued", "0023_harden2_denial_window",
                                             "0023_messages_slice", "0023_places_geo",
                                             "0023_cases_engine")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
