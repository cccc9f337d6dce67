"""`tongban demo load` gives the cast's resident.wang one booking at the 南门 window; again, none more."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tongban.appointments.models import Booking
from tongban.core.identity.models import Account
from tongban.demo import load_demo


def test_the_demo_books_for_resident_wang_once(db, settings, clock) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        with db.unit_of_work() as s:
            load_demo(s, settings)
    with db.unit_of_work() as s:
        wang = s.scalars(select(Account.id).where(Account.username == "resident.wang")).one()
        rows = list(s.scalars(select(Booking).where(Booking.account_id == wang)))
    assert [(b.resource_id, b.item_id, b.status) for b in rows] == [
        ("appt.hall-nanmen.assistance", "item.disability-card", "active")]
    # the test clock is Wednesday 2025-06-11 10:00: the first slot not begun is today's 10:30
    assert (rows[0].day, rows[0].start) == (dt.date(2025, 6, 11), "10:30")
