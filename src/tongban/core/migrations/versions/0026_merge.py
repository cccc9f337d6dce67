"""Merge session 8's heads into one: the cockpit's store (cockpit), the ratings (ratings), the
appointments (booking), 长辈版 on the account and the help line (elder) and the index on
person.phone.

Revision ID: 0026_merge
Revises: 0025_cockpit_store, 0025_person_phone_index, 0025_ratings, 0025_booking_appointments,
    0025_elder_mode
Create Date: 2026-12-06
"""

from collections.abc import Sequence

revision: str = "0026_merge"
down_revision: str | Sequence[str] | None = ("0025_cockpit_store", "0025_person_phone_index", "0025_ratings",
                                             "0025_booking_appointments", "0025_elder_mode")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
