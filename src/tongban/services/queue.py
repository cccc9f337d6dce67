"""The staff task queue (待办), one for the API (`GET /api/v1/workbench/tasks`) and the workbench
pages (`/workbench/tasks`, its Excel export): the department's tasks in the caller's region, of
those waiting for a decision only the steps the caller may decide (role and region level, see
`decidable_by`), and the count of every tab worked out by the database, however long the queue.

Tabs of the waiting tasks: *ready* (all), *mine* (assigned to the caller), *near_due* (80 % of
the promised working days used, not yet overdue) and *overdue* (past the promised due date); the
same rules as `sla.clock`, which the page shows per row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, false, func, literal, or_, select
from sqlalchemy.orm import Session

from tongban.core import access, paging
from tongban.core.errors import Invalid
from tongban.core.i18n import N_
from tongban.core.timeutil import DEFAULT_CALENDAR, WorkCalendar
from tongban.services import catalogue, sla
from tongban.services.applications import DECIDABLE
from tongban.services.models import Application, Task

TABS = ("ready", "mine", "near_due", "overdue")
STATUSES = ("ready", "blocked", "claimed", "returned", "public_notice", "approved", "rejected", "cancelled")


@dataclass
class QueuePage:
    """One page of a queue: (task, application) pairs in task order, the cursor of the next page
    (None on the last), and each tab's count over the whole queue (not just this page)."""

    rows: list[tuple[Task, Application]]
    next_cursor: str | None
    counts: dict[str, int]


def decidable_by(session: Session, principal: access.Principal) -> Any:
    """A condition on Task: its current step is one `principal` may decide — the step's role is
    theirs and its level (street 受理, county 审批 …) is their region's — so a district officer's
    ready queue does not list the street's steps. None (no condition) for platform admins and
    department admins (who reassign the whole department's tasks)."""
    if access.decides_every_step(principal):
        return None
    level = access.region_level(principal.region_code) if principal.region_code else None
    by_step: dict[int, list[str]] = {}
    for item in catalogue.current(session).items.values():
        if item.department_id != principal.department_id:
            continue
        for index, step in enumerate(item.definition["steps"]):
            if step["role"] in principal.roles and step.get("level", "county") == level:
                by_step.setdefault(index, []).append(item.id)
    if not by_step:
        return false()
    return or_(*(and_(Task.step_index == index, Task.item_id.in_(ids)) for index, ids in sorted(by_step.items())))


def _scoped(q: Any, principal: access.Principal) -> Any:
    """The caller's department, in the caller's region (the access layer's one row scope)."""
    return q.where(access.scope(principal, region=Application.region_code, department=Task.department_id))


def _waiting(session: Session, principal: access.Principal, q: Any) -> Any:
    q = _scoped(q.join(Application, Application.id == Task.application_id), principal)
    q = q.where(Task.status.in_(DECIDABLE))
    if (mine := decidable_by(session, principal)) is not None:  # steps of another level or role
        q = q.where(mine)
    return q


def _tab_conditions(session: Session, principal: access.Principal, today: dt.date,
                    calendar: WorkCalendar) -> dict[str, Any]:
    """Each tab as a condition on the waiting tasks. Near due depends on the working days between
    the clock's start and today, so the distinct start dates of the queue are read first (a few
    hundred at most) and each gives the due dates that warn (`sla.warning_due_dates`)."""
    overdue = and_(Task.clock_started_on.is_not(None), Task.due_date < today)
    starts = session.scalars(_waiting(session, principal, select(Task.clock_started_on).distinct())
                             .where(Task.clock_started_on.is_not(None), Task.due_date >= today)).all()
    windows = {s: w for s in starts if (w := sla.warning_due_dates(s, today, calendar)) is not None}
    if windows:
        first = case({s: literal(w[0]) for s, w in windows.items()}, value=Task.clock_started_on)
        stop = case({s: literal(w[1]) for s, w in windows.items()}, value=Task.clock_started_on)
        near = and_(Task.clock_started_on.in_(list(windows)), Task.due_date >= today,
                    Task.due_date >= first, Task.due_date < stop)
    else:
        near = false()
    mine = Task.assignee_account_id == principal.account_id if principal.account_id is not None else false()
    return {"ready": None, "mine": mine, "near_due": near, "overdue": overdue}


def queue(session: Session, *, principal: access.Principal, today: dt.date, tab: str = "ready",
          status: str = "ready", limit: int = 50, cursor: str | None = None,
          calendar: WorkCalendar = DEFAULT_CALENDAR) -> QueuePage:
    """The caller's queue, a page in task order. `status` "ready" is the waiting tasks (ready, or
    claimed between review steps), in `tab`; another status lists the department's tasks in it
    (tabs do not apply). Officers (`task.decide`) and department admins (`task.reassign`)."""
    access.require_any(principal, "task.decide", "task.reassign")
    if tab not in TABS:
        raise Invalid(N_("Unknown queue tab"), field="tab")
    if status not in STATUSES:
        raise Invalid(N_("Unknown status"), field="status")
    paging.check_limit(limit)
    after = paging.decode_cursor(cursor)
    tabs = _tab_conditions(session, principal, today, calendar)
    counts = _counts(session, principal, tabs)
    if status == "ready":
        q = _waiting(session, principal, select(Task, Application))
        if tabs[tab] is not None:
            q = q.where(tabs[tab])
    else:
        q = _scoped(select(Task, Application).join(Application, Application.id == Task.application_id),
                    principal).where(Task.status == status)
    if after is not None:
        q = q.where(Task.id > after)
    rows = [(r[0], r[1]) for r in session.execute(q.order_by(Task.id).limit(limit + 1))]
    page, next_cursor = paging.page_of(rows, limit, key=lambda row: row[0].id)
    return QueuePage(rows=page, next_cursor=next_cursor, counts=counts)


def _counts(session: Session, principal: access.Principal, tabs: dict[str, Any]) -> dict[str, int]:
    """Every tab's count in one aggregate query over the whole waiting queue."""
    cols = [func.count().label("ready")]
    cols += [func.coalesce(func.sum(case((cond, 1), else_=0)), 0).label(name)
             for name, cond in tabs.items() if cond is not None]
    row = session.execute(_waiting(session, principal, select(*cols).select_from(Task))).one()
    return {name: int(row._mapping[name] or 0) for name in TABS}
