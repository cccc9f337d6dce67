"""Straight checks of the services indicators: every application and decided task read as a row,
counted in Python (days by zoneinfo, working days by the calendar counted day by day)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.cockpit.straight_util import Cells, Tally, day_of
from tongban.core import workdays
from tongban.services.models import Application, OneThing, ServiceItem, Task


def _in(day: dt.date | None, day_from: dt.date, day_to: dt.date) -> bool:
    return day is not None and day_from <= day <= day_to


def applications(session, *, day_from: dt.date, day_to: dt.date) -> Cells:  # type: ignore[no-untyped-def]
    domain = {i.id: i.definition.get("domain", "") for i in session.scalars(select(ServiceItem))}
    domain |= {o.id: o.definition.get("domain", "") for o in session.scalars(select(OneThing))}
    t = Tally(("applications",))
    for a in session.scalars(select(Application)):
        day = day_of(a.submitted_at)
        if _in(day, day_from, day_to):
            service = a.onething_id or a.item_id
            t.add(day, a.region_code, (domain.get(service, ""), service), applications=1)
    return t.result()


def decided(session, *, day_from: dt.date, day_to: dt.date) -> Cells:  # type: ignore[no-untyped-def]
    cal = workdays.calendar(session)
    regions = dict(session.execute(select(Application.id, Application.region_code)).all())
    t = Tally(("decided", "on_time", "working_days"))
    for task in session.scalars(select(Task)):
        day = day_of(task.decided_at)
        if task.status not in ("approved", "rejected") or not _in(day, day_from, day_to):
            continue
        assert day is not None
        started = task.clock_started_on
        worked = 0 if started is None else sum(1 for n in range(1, (day - started).days + 1)
                                               if cal.is_workday(started + dt.timedelta(days=n)))
        t.add(day, regions[task.application_id], (task.department_id, task.item_id), decided=1,
              on_time=1 if task.due_date is None or day <= task.due_date else 0, working_days=worked)
    return t.result()


def savings(session, *, day_from: dt.date, day_to: dt.date) -> Cells:  # type: ignore[no-untyped-def]
    saved = {o.id: o.savings for o in session.scalars(select(OneThing))}
    t = Tally(("applications", "saved"))
    for a in session.scalars(select(Application).where(Application.onething_id.is_not(None))):
        day = day_of(a.submitted_at)
        if _in(day, day_from, day_to):
            for what in ("forms", "fields", "materials", "visits", "days"):
                t.add(day, a.region_code, (a.onething_id, what), applications=1,
                      saved=((saved.get(a.onething_id) or {}).get(what) or {}).get("saved", 0))
    return t.result()


STRAIGHT = {"services.applications": applications, "services.on_time": decided, "services.working_days": decided,
            "services.onething_savings": savings}
