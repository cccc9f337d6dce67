"""公示: the public notice an item may require after its last review step (低保, 特困 …).

The task waits in `public_notice` until the notice's last day has passed; a periodic job then
makes the approval take effect (registry effects, certificates, dependants unblocked). Staff
of the task's department who receive an objection (异议) record it, and the task goes back to
its last review step, whose officer decides again (approve → a new 公示; or reject).

The period is counted in calendar days unless the item says `notice_day_kind: working`
(民发〔2021〕57号 gives the 低保 公示期 as 7 days; the days are local, so the pack says how many).
The notice starts the day after the decision, like every time limit, and ends on its last day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tongban.core import access, clock, workdays
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid
from tongban.core.i18n import N_
from tongban.core.jobs.registry import handler, schedule
from tongban.core.timeutil import WorkCalendar
from tongban.services import notify
from tongban.services.models import Application, ServiceItem, Task
from tongban.services.reach import task_in_reach

if TYPE_CHECKING:
    from tongban.core.keys import Keyring

JOB_KIND = "services.public_notice"


def ends_on(item: Mapping[str, Any], start: dt.date, calendar: WorkCalendar) -> dt.date:
    """The last day of a 公示 decided on `start` (it runs from the next day)."""
    days = int(item["notice_days"])
    if item.get("notice_day_kind") == "working":
        return calendar.add_working_days(start, days)
    return start + dt.timedelta(days=days)


def begin(session: Session, app: Application, task: Task, item: Mapping[str, Any], *, now: dt.datetime,
          calendar: WorkCalendar | None = None) -> None:
    """The last review step approved: publish the notice (called inside the decision's transaction)."""
    task.status = "public_notice"
    task.notice_ends_on = ends_on(item, clock.local_date(now), calendar or workdays.calendar(session))
    notify.applicant(session, app, "task.public_notice", task=task, item_id=task.item_id,
                     ends_on=task.notice_ends_on.isoformat())


def complete_due(session: Session, *, keyring: Keyring, today: dt.date | None = None,
                 now: dt.datetime | None = None, calendar: WorkCalendar | None = None) -> list[int]:
    """Let every notice whose last day is before `today` take effect; return the tasks completed."""
    from tongban.services import applications

    today = today or clock.today()
    now = now or clock.now()
    due = list(session.scalars(select(Task).where(Task.status == "public_notice", Task.notice_ends_on < today)
                               .order_by(Task.id)))
    done = []
    for task in due:
        # Guarded like a decision: an objection recorded meanwhile wins.
        bumped = session.execute(update(Task).where(Task.id == task.id, Task.version == task.version,
                                                    Task.status == "public_notice")
                                 .values(version=task.version + 1).execution_options(synchronize_session=False))
        if getattr(bumped, "rowcount", 0) != 1:
            continue
        session.refresh(task)
        app = session.get_one(Application, task.application_id)
        item = session.get_one(ServiceItem, task.item_id).definition
        ended = task.notice_ends_on
        task.notice_ends_on = None
        principal = access.SYSTEM_JOBS
        applications.approve_task(session, app, task, item, principal=principal, keyring=keyring, now=now)
        applications.record_event(session, app, task, "task.notice_completed", principal.actor,
                            {"item": task.item_id, "ended_on": ended.isoformat() if ended else None}, now)
        record(session, actor=principal.actor, action="task.notice_complete", subject=f"task:{task.id}",
               department_id=task.department_id, region_code=app.region_code,
               details={"application": app.id, "item": task.item_id})
        applications.advance(session, app, principal=principal, keyring=keyring, now=now, calendar=calendar)
        done.append(task.id)
    session.flush()
    return done


def object_to(session: Session, *, principal: access.Principal, task_id: int, reason: str | None,
              version: int | None, now: dt.datetime | None = None) -> Task:
    """Record an objection (异议) received during the 公示: the task goes back to its last review step."""
    access.require(principal, "task.decide")
    task, app = task_in_reach(session, principal, task_id)
    reason = (reason or "").strip() or None
    if reason is None:
        raise Invalid(N_("Say what the objection is"), field="reason")
    if len(reason) > 500:
        raise Invalid(N_("This value is too long"), field="reason")
    if version is None:
        raise Invalid(N_("Send the task version you decided on"), field="version")
    if task.status != "public_notice":
        raise Conflict(N_("This task is not in public notice"), field="status")
    bumped = session.execute(update(Task).where(Task.id == task.id, Task.version == version,
                                                Task.status == "public_notice")
                             .values(version=version + 1).execution_options(synchronize_session=False))
    if getattr(bumped, "rowcount", 0) != 1:
        raise Conflict(N_("The task was changed meanwhile; reload it and decide again"), field="version")
    session.refresh(task)
    now = now or clock.now()
    from tongban.services import applications

    task.status = "claimed"
    task.notice_ends_on = None
    task.reason = reason
    details = {"application": app.id, "item": task.item_id, "reason": reason}
    applications.record_event(session, app, task, "task.objection", principal.actor, details, now)
    record(session, actor=principal.actor, actor_department=principal.department_id, action="task.objection",
           subject=f"task:{task.id}", department_id=task.department_id, region_code=app.region_code,
           details={"application": app.id, "item": task.item_id})
    notify.applicant(session, app, "task.objection", task=task, item_id=task.item_id, reason=reason)
    session.flush()
    return task


def _keyring() -> Keyring:
    from tongban.core.config import get_settings
    from tongban.core.keys import keyring_for

    return keyring_for(get_settings())


@handler(JOB_KIND)
def complete_notices(session: Session, payload: dict[str, Any]) -> None:
    """Periodic: 公示 periods that ended without objection take effect."""
    complete_due(session, keyring=_keyring())


schedule(JOB_KIND, JOB_KIND, interval_seconds=3600)
