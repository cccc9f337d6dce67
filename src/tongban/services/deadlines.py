"""Deadline watch (时限预警): a periodic job flags each running task once when it has used 80 % of
its promised working days (warning) and once when it is past its due date (overdue). Each flag
is one audit event (for the department's audit view) and one timeline entry; the workbench
shows it on the task (`warning`, `overdue`) and the staff are told in their inbox (the officer
holding the task, or the department's queue). A 补正 restarts the clock and clears the flags
(`sla.start_clock`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tongban import messages
from tongban.core import clock, workdays
from tongban.core.audit.log import record
from tongban.core.jobs.registry import handler, schedule
from tongban.core.timeutil import WorkCalendar
from tongban.services import catalogue, notify, sla
from tongban.services.models import Application, ApplicationEvent, Task

RUNNING = ("ready", "claimed")
WARN_AT = 0.8
BATCH = 1000


def flag_deadlines(session: Session, *, now: dt.datetime | None = None,
                   calendar: WorkCalendar | None = None) -> dict[str, int]:
    """Flag running tasks at 80 % of their time limit and past due, each once. Returns the counts."""
    now = now or clock.now()
    today = clock.local_date(now)
    calendar = calendar or workdays.calendar(session)
    counts = {"warning": 0, "overdue": 0}
    last_id = 0
    while True:
        rows = session.execute(
            select(Task, Application).join(Application, Application.id == Task.application_id)
            .where(Task.status.in_(RUNNING), Task.due_date.is_not(None), Task.id > last_id,
                   or_(Task.warned_at.is_(None), Task.overdue_at.is_(None)))
            .order_by(Task.id).limit(BATCH)).all()
        if not rows:
            return counts
        with messages.batch(session):  # the batch's messages to staff in one INSERT
            for task, app in rows:
                last_id = task.id
                standing = sla.clock(task, today, calendar)
                if task.warned_at is None and standing["warning"]:
                    task.warned_at = now
                    _flag(session, task, app, "task.deadline_warning", standing, now)
                    counts["warning"] += 1
                if task.overdue_at is None and standing["overdue"]:
                    task.overdue_at = now
                    _flag(session, task, app, "task.overdue", standing, now)
                    counts["overdue"] += 1
        session.flush()


def _flag(session: Session, task: Task, app: Application, kind: str, standing: dict[str, Any], now: dt.datetime) -> None:
    details = {"application": app.id, "item": task.item_id, "due_date": standing["due_date"],
               "working_days_used": standing["working_days_used"], "working_days_allowed": standing["working_days_allowed"]}
    session.add(ApplicationEvent(application_id=app.id, task_id=task.id, at=now, kind=kind, actor="system",
                                 details=details))
    record(session, actor="system", action=kind, subject=f"task:{task.id}", department_id=task.department_id,
           region_code=app.region_code, details=details)
    notify.deadline(session, app, task, kind, standing)


def recount_due_dates(session: Session, year: int, calendar: WorkCalendar) -> int:
    """A year's schedule was loaded: the running tasks whose due dates were counted through that
    year are counted again on it, each change a `task.due_recounted` event (and the deadline
    flags cleared, as when the clock restarts: the next watch sets them again if still due)."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    items = catalogue.current(session).items
    changed = 0
    for task, app in session.execute(
            select(Task, Application).join(Application, Application.id == Task.application_id)
            .where(Task.status.in_(RUNNING), Task.clock_started_on.is_not(None), Task.clock_started_on <= last,
                   or_(Task.due_date >= first, Task.statutory_due_date >= first)).order_by(Task.id)):
        item, started = items[task.item_id].definition, task.clock_started_on
        if started is None:  # not selected; keeps the type checker sure
            continue
        due = calendar.add_working_days(started, int(item["promised_days"]))
        statutory = calendar.add_working_days(started, int(item["statutory_days"]))
        if (due, statutory) == (task.due_date, task.statutory_due_date):
            continue
        details = {"application": app.id, "item": task.item_id, "calendar_year": year,
                   "due_date": [str(task.due_date), due.isoformat()],
                   "statutory_due_date": [str(task.statutory_due_date), statutory.isoformat()]}
        task.due_date, task.statutory_due_date, task.warned_at, task.overdue_at = due, statutory, None, None
        session.add(ApplicationEvent(application_id=app.id, task_id=task.id, at=clock.now(), kind="task.due_recounted",
                                     actor="system", details=details))
        record(session, actor="system", action="task.due_recounted", subject=f"task:{task.id}",
               department_id=task.department_id, region_code=app.region_code, details=details)
        changed += 1
    session.flush()
    return changed


@handler("services.deadlines")
def run_deadlines(session: Session, payload: dict[str, Any]) -> None:
    flag_deadlines(session)


schedule("services.deadlines", "services.deadlines", interval_seconds=900)
