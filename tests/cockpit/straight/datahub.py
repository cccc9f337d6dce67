"""Straight checks of the data hub's indicators: requests and audit events read as rows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.cockpit.straight_util import Cells, Tally, day_of
from tongban.core.audit.models import AuditEvent
from tongban.core.identity.models import Department
from tongban.datahub.models import SharingRequest


def _regions(session) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(session.execute(select(Department.id, Department.region_code)).all())


def sharing_requests(session, *, day_from: dt.date, day_to: dt.date) -> Cells:  # type: ignore[no-untyped-def]
    regions = _regions(session)
    t = Tally(("requests",))
    for r in session.scalars(select(SharingRequest)):
        day = day_of(r.created_at)
        if day is not None and day_from <= day <= day_to and r.consumer_department_id in regions:
            t.add(day, regions[r.consumer_department_id], (r.consumer_department_id, r.dataset_id, r.status),
                  requests=1)
    return t.result()


def exchange_calls(session, *, day_from: dt.date, day_to: dt.date) -> Cells:  # type: ignore[no-untyped-def]
    regions = _regions(session)
    t = Tally(("calls",))
    for e in session.scalars(select(AuditEvent)):
        day = day_of(e.at)
        if (e.action.startswith("exchange.") and e.outcome == "ok" and e.actor_department in regions
                and day is not None and day_from <= day <= day_to):
            t.add(day, regions[e.actor_department], (e.actor_department, e.action), calls=1)
    return t.result()


STRAIGHT = {"datahub.sharing_requests": sharing_requests, "datahub.exchange_calls": exchange_calls}
