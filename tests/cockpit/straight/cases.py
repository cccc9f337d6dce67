"""Straight checks of the cases indicators: every case read as a row, counted in Python."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.cockpit.straight_util import Cells, Tally, day_of
from tongban.cases.models import Case


def by_type(session, *, day_from: dt.date, day_to: dt.date) -> Cells:  # type: ignore[no-untyped-def]
    t = Tally(("cases", "closed", "overdue", "merged"))
    for c in session.scalars(select(Case)):
        day = day_of(c.created_at)
        if day is not None and day_from <= day <= day_to:
            t.add(day, c.region_code, (c.department_id or "", c.type), cases=1, closed=c.status == "closed",
                  overdue=c.overdue_at is not None, merged=c.status == "merged")
    return t.result()


STRAIGHT = {k: by_type for k in ("cases.received", "cases.closure_rate", "cases.overdue_rate", "cases.merge_rate")}
