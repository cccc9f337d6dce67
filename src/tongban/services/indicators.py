"""The services slice's figures for the cockpit (`core.indicators`): applications per domain and
service, on-time rate and working days per department and item, and what one-things saved.

Each is one grouped query over the slice's own tables; what SQL cannot count portably (the working
days of a task, by the one working-day module; a service's domain, in the pack's definition) is
done on the grouped rows, never per application."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.core import workdays
from tongban.core.i18n import N_, gettext, pick
from tongban.core.indicator_sql import as_date, cells, local_day, utc_bounds
from tongban.core.indicators import Cell, Indicator
from tongban.services.domains import DOMAINS
from tongban.services.models import Application, OneThing, ServiceItem, Task

DECIDED = ("approved", "rejected")
SAVINGS = ("forms", "fields", "materials", "visits", "days")


def _domains(session: Session) -> dict[str, str]:
    """Item and one-thing id → its domain (the pack's, `services.domains`)."""
    out = {i: str(d.get("domain") or "") for i, d in session.execute(select(ServiceItem.id, ServiceItem.definition))}
    out |= {o: str(d.get("domain") or "") for o, d in session.execute(select(OneThing.id, OneThing.definition))}
    return out


def applications(session: Session, *, day_from: dt.date, day_to: dt.date) -> list[Cell]:
    """Applications submitted, by day, the applicant's community, domain and service (one-thing or item)."""
    start, end = utc_bounds(day_from, day_to)
    day = local_day(Application.submitted_at)
    rows = session.execute(
        select(day, Application.region_code, Application.onething_id, Application.item_id, func.count())
        .where(Application.submitted_at >= start, Application.submitted_at < end)
        .group_by(day, Application.region_code, Application.onething_id, Application.item_id))
    domains = _domains(session)
    out = []
    for d, region, onething, item, n in rows:
        service = onething or item or ""
        out.append((d, region, domains.get(service, ""), service, n))
    return cells(out, dimensions=2, measures=("applications",))


def decided_tasks(session: Session, *, day_from: dt.date, day_to: dt.date) -> list[Cell]:
    """Tasks decided (approved or rejected), by the day decided, the applicant's community, the
    department and item: how many, how many on or before their promised due date, and the working
    days from the clock's (last) start to the decision."""
    start, end = utc_bounds(day_from, day_to)
    day = local_day(Task.decided_at)
    rows = session.execute(
        select(day, Application.region_code, Task.department_id, Task.item_id, Task.clock_started_on,
               Task.due_date, func.count())
        .join(Application, Application.id == Task.application_id)
        .where(Task.status.in_(DECIDED), Task.decided_at >= start, Task.decided_at < end)
        .group_by(day, Application.region_code, Task.department_id, Task.item_id, Task.clock_started_on,
                  Task.due_date))
    calendar = workdays.calendar(session)
    out = []
    for d, region, department, item, started, due, n in rows:
        decided_on = as_date(d)
        on_time = n if due is None or decided_on <= due else 0
        days = calendar.working_days_between(started, decided_on) * n if started is not None else 0
        out.append((decided_on, region, department, item, n, on_time, days))
    return cells(out, dimensions=2, measures=("decided", "on_time", "working_days"))


def savings(session: Session, *, day_from: dt.date, day_to: dt.date) -> list[Cell]:
    """What one-thing applications saved against applying for each item alone: the savings the
    engine computed for the one-thing at load (its default choice) times the applications
    submitted, by day, community, one-thing and kind of saving."""
    start, end = utc_bounds(day_from, day_to)
    day = local_day(Application.submitted_at)
    rows = session.execute(
        select(day, Application.region_code, Application.onething_id, func.count())
        .where(Application.onething_id.is_not(None), Application.submitted_at >= start, Application.submitted_at < end)
        .group_by(day, Application.region_code, Application.onething_id))
    saved: dict[str, dict[str, Any]] = {o: s or {} for o, s in session.execute(select(OneThing.id, OneThing.savings))}
    out = []
    for d, region, onething, n in rows:
        for what in SAVINGS:
            per = int((saved.get(str(onething), {}).get(what) or {}).get("saved") or 0)
            out.append((d, region, onething, what, n, per * n))
    return cells(out, dimensions=2, measures=("applications", "saved"))


SAVING_LABELS = {"forms": N_("Forms"), "fields": N_("Fields"), "materials": N_("Materials"), "visits": N_("Visits"),
                 "days": N_("Promised days")}


def value_labels(session: Session, dimension: str) -> dict[str, str]:
    """How the cockpit shows a dimension's values: a domain by its name, an item or one-thing by its
    title, a kind of saving in words."""
    if dimension == "domain":
        return {d: pick({"zh": zh, "en": en}) for d, (zh, en) in DOMAINS.items()} | {"": gettext(N_("No domain"))}
    if dimension == "saving":
        return {k: gettext(v) for k, v in SAVING_LABELS.items()}
    out: dict[str, str] = {}
    if dimension in ("service", "item"):
        out |= {i: pick(d.get("title")) for i, d in session.execute(select(ServiceItem.id, ServiceItem.definition))}
    if dimension in ("service", "onething"):
        out |= {o: pick(d.get("title")) for o, d in session.execute(select(OneThing.id, OneThing.definition))}
    return out


DIMENSIONS = {"domain": N_("Domain"), "service": N_("Service"), "department": N_("Department"),
              "item": N_("Service item"), "onething": N_("One-thing"), "saving": N_("What was saved")}

INDICATORS = (
    Indicator(key="services.applications", label=N_("Applications"),
              definition=N_("Applications submitted (drafts not counted), by the day submitted and the applicant's "
                            "community, per domain and one-thing or item."),
              measures=("applications",), show="count", of=("applications",), compute=applications,
              dimensions=("domain", "service"), subjects="applications", unit=N_("applications"),
              measure_labels={"applications": N_("Applications")},
              dimension_labels={k: DIMENSIONS[k] for k in ("domain", "service")},
              value_labels=value_labels),
    Indicator(key="services.on_time", label=N_("On-time rate"),
              definition=N_("Tasks decided on or before their promised due date, out of the tasks decided "
                            "(approved or rejected) that day, per department and item."),
              measures=("decided", "on_time", "working_days"), show="ratio", of=("on_time", "decided"),
              compute=decided_tasks, dimensions=("department", "item"), subjects="decided", unit="%",
              measure_labels={"decided": N_("Tasks decided"), "on_time": N_("Decided on time"),
                              "working_days": N_("Working days taken")},
              dimension_labels={k: DIMENSIONS[k] for k in ("department", "item")},
              value_labels=value_labels),
    Indicator(key="services.working_days", label=N_("Average working days"),
              definition=N_("Working days from the start of a task's clock to its decision (holidays and "
                            "adjusted workdays counted), averaged over the tasks decided, per department and item."),
              measures=("decided", "on_time", "working_days"), show="mean", of=("working_days", "decided"),
              compute=decided_tasks, dimensions=("department", "item"), subjects="decided",
              unit=N_("working days"),
              measure_labels={"decided": N_("Tasks decided"), "on_time": N_("Decided on time"),
                              "working_days": N_("Working days taken")},
              dimension_labels={k: DIMENSIONS[k] for k in ("department", "item")},
              value_labels=value_labels),
    Indicator(key="services.onething_savings", label=N_("What one-things saved"),
              definition=N_("Forms, fields, materials, visits and promised days saved by applying once for a "
                            "one-thing instead of for each item alone: the one-thing's savings times its "
                            "applications submitted."),
              measures=("applications", "saved"), show="count", of=("saved",), compute=savings,
              dimensions=("onething", "saving"), subjects="applications",
              measure_labels={"applications": N_("Applications"), "saved": N_("Saved")},
              dimension_labels={k: DIMENSIONS[k] for k in ("onething", "saving")},
              value_labels=value_labels),
)
