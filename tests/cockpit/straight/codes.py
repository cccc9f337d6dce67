"""Straight check of codes by status: every code read as a row."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.cockpit.straight_util import SHANGHAI, Cells, Tally
from tongban.codes.models import IssuedCode
from tongban.core.identity.models import Department


def by_status(session, *, day_from: dt.date, day_to: dt.date) -> Cells:  # type: ignore[no-untyped-def]
    end = dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time(), tzinfo=SHANGHAI)
    regions = dict(session.execute(select(Department.id, Department.region_code)).all())
    t = Tally(("codes",))
    for c in session.scalars(select(IssuedCode)):
        if dt.datetime.fromtimestamp(c.issued_epoch, dt.UTC) >= end or c.issuer_department_id not in regions:
            continue
        status = "revoked" if c.revoked_at is not None and c.revoked_at < end else "valid"
        t.add(day_to, regions[c.issuer_department_id], (c.issuer_department_id, c.type_id, status), codes=1)
    return t.result()


STRAIGHT = {"codes.by_status": by_status}
