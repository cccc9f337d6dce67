"""The officers' side of the engine as the workbench shows it: the department's queue in tabs
(ready, mine, near due, overdue) with counts, one task's application data masked by
`core.masking` unless a field is asked for with a purpose (audited), reassignment by the
department's administrator, and the department's dashboard figures.

The queue itself, its tabs and their counts are `services.queue`, shared with the API; this
module adds what a line of the page shows. `applications.decide` applies the same rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.core import access, workdays
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid
from tongban.core.i18n import N_, gettext, pick
from tongban.core.identity import service as identity
from tongban.core.identity.models import Account
from tongban.core.timeutil import utcnow
from tongban.datahub import release
from tongban.registry import reads as registry_reads
from tongban.services import applications, onething, sla
from tongban.services import queue as staff_queue
from tongban.services.models import Application, ApplicationEvent, DataElement, Task
from tongban.services.reach import task_in_reach

TABS = staff_queue.TABS
PAGE_SIZE = 100
MIN_PURPOSE = 4
STATUSES = ("blocked", "ready", "claimed", "returned", "approved", "rejected", "cancelled")


def _require_staff_view(principal: access.Principal) -> None:
    """Officers (who decide) and department admins (who reassign) see the department's tasks."""
    access.require_any(principal, "task.decide", "task.reassign")


def _scoped(q: Any, principal: access.Principal) -> Any:
    return q.where(access.scope(principal, region=Application.region_code, department=Task.department_id))


@dataclass
class QueueRow:
    """A queue line: only what the queue page (and its export) shows, personal data masked."""

    task: Task
    application: Application
    item_title: str
    step_title: str
    applicant: str | None
    assignee: str | None
    clock: dict[str, Any]


def queue(session: Session, *, principal: access.Principal, tab: str, today: dt.date,
          cursor: str | None = None, limit: int = PAGE_SIZE) -> tuple[list[QueueRow], dict[str, int], str | None]:
    """One page of a tab of the waiting tasks as the page shows them, the count of every tab,
    and the cursor of the next page (`services.queue.queue`: the API's queue)."""
    calendar = workdays.calendar(session)
    page = staff_queue.queue(session, principal=principal, today=today, tab=tab, limit=limit, cursor=cursor,
                             calendar=calendar)
    out: list[QueueRow] = []
    names: dict[int, str | None] = {}
    for task, app in page.rows:
        item = onething.get_item(session, task.item_id).definition
        out.append(QueueRow(task=task, application=app, item_title=pick(item["title"]),
                            step_title=pick(item["steps"][task.step_index]["title"]),
                            applicant=_shown("name", _account_name(session, names, app.applicant_account_id),
                                             "name", unmasked=False)[0],
                            assignee=_account_name(session, names, task.assignee_account_id),
                            clock=sla.clock(task, today, calendar)))
    return out, page.counts, page.next_cursor


def _account_name(session: Session, cache: dict[int, str | None], account_id: int | None) -> str | None:
    if account_id is None:
        return None
    if account_id not in cache:
        account = session.get(Account, account_id)
        cache[account_id] = account.display_name if account else None
    return cache[account_id]


# --- one task -----------------------------------------------------------------------------------


def element_mask(element: Mapping[str, Any], element_id: str) -> str | None:
    """Which `core.masking` display mask an element's value gets on the workbench (None = shown).

    A pack may name it (`mask:`); otherwise resident IDs and phones by their format, names by
    their id, and free-text addresses in full stars."""
    if element.get("mask"):
        return str(element["mask"])
    if element.get("format") == "resident_id":
        return "id_number"
    if element.get("format") == "phone":
        return "phone"
    if element_id.endswith("name"):
        return "name"
    if "address" in element_id:
        return "hidden"
    return None


def _shown(field_id: str, value: Any, mask: str | None, *, unmasked: bool) -> tuple[Any, bool]:
    """A form value as the officer deciding the application sees it: the release decision for a
    party (`datahub.release`) — a value with a display mask is L3 (masked until unmasked for a
    stated purpose), the rest as they are. Returns the value shown and whether it was masked."""
    basis = release.Basis(kind="party", dataset_id=None,
                          catalog={field_id: release.Field(field_id, 3 if mask else 1, mask)})
    shown = release.release_value(basis, field_id, value, purpose=unmasked)
    return shown, shown != value


def get_task(session: Session, *, principal: access.Principal, task_id: int) -> tuple[Task, Application]:
    """A task of the caller's department in the caller's region (others: refused, audited)."""
    _require_staff_view(principal)
    task, app = task_in_reach(session, principal, task_id)
    return task, app


# What a task receives from the tasks before it (their outputs), as the officer reads it.
HIDDEN_INPUTS = frozenset({"newborn_person_id"})
INPUT_LABELS = {"newborn_id_number": N_("Newborn's resident ID number"),
                "enrolment_id": N_("Insurance enrolment number"), "certificate_id": N_("Number of the certificate issued")}


def task_fields(session: Session, *, principal: access.Principal, task: Task, app: Application,
                unmask: str | None = None, purpose: str | None = None) -> list[dict[str, Any]]:
    """The item's form fields with the application's values, then what earlier tasks handed on
    (`input.<key>`), masked; `unmask` one of them in clear for a stated `purpose`, recorded in
    the audit chain as `application.unmask`."""
    item = onething.get_item(session, task.item_id)
    elements: dict[str, DataElement] = onething.elements_of(session, [item])
    rows: list[tuple[str, str, Any, str | None, Mapping[str, Any]]] = []
    for f in item.definition["form"]:
        el = elements[f["element"]].definition
        rows.append((f["element"], pick(dict(f.get("label") or el["name"])), app.data.get(f["element"]),
                     element_mask(el, f["element"]), el))
    for key, value in sorted(task.inputs.items()):
        if key in HIDDEN_INPUTS:  # a row id of another table: nothing an officer reads
            continue
        if key == "certificate_id" and isinstance(value, int):  # the number printed on it, not its row id
            cert = registry_reads.certificate(session, value)
            value = cert.number if cert is not None else value
        label = gettext(INPUT_LABELS[key]) if key in INPUT_LABELS else key
        rows.append((f"input.{key}", label, value, "id_number" if key.endswith("id_number") else None, {}))
    if unmask is not None:
        if unmask not in {r[0] for r in rows}:
            raise Invalid(N_("This form has no such field"), field="field")
        purpose = (purpose or "").strip()
        if len(purpose) < MIN_PURPOSE:
            raise Invalid(N_("State the purpose of seeing the full record (at least 4 characters)"), field="purpose")
        if len(purpose) > 500:
            raise Invalid(N_("This value is too long"), field="purpose")
        record(session, actor=principal.actor, actor_department=principal.department_id, action="application.unmask",
               subject=f"application:{app.id}", department_id=task.department_id, region_code=app.region_code,
               purpose=purpose, details={"task": task.id, "field": unmask})
    out = []
    for field_id, title, value, mask, spec in rows:
        shown, masked = _shown(field_id, value, mask, unmasked=field_id == unmask)
        if not masked and spec.get("enum_labels") and isinstance(value, str):
            shown = pick(spec["enum_labels"].get(value)) or value
        out.append({"id": field_id, "title": title, "value": shown, "masked": masked})
    return out


def task_history(session: Session, task: Task) -> list[ApplicationEvent]:
    return list(session.scalars(select(ApplicationEvent).where(ApplicationEvent.task_id == task.id)
                                .order_by(ApplicationEvent.id)))


# --- reassignment -------------------------------------------------------------------------------


def officers(session: Session, *, principal: access.Principal, department_id: str) -> list[Account]:
    """Active staff of the department who may decide tasks (candidates for a reassignment)."""
    rows = session.scalars(select(Account).where(Account.kind == "staff", Account.active.is_(True),
                                                 Account.department_id == department_id).order_by(Account.id))
    return [a for a in rows if identity.principal_for_account(session, a).has("task.decide")]


def reassign(session: Session, *, principal: access.Principal, task_id: int, to_account_id: int,
             version: int, now: dt.datetime | None = None) -> Task:
    """分派: a department administrator gives a waiting task to another officer of the department."""
    access.require(principal, "task.reassign")
    task, app = get_task(session, principal=principal, task_id=task_id)
    target = session.get(Account, to_account_id)
    if target is None or target.id not in {a.id for a in officers(session, principal=principal,
                                                                  department_id=task.department_id)}:
        raise Invalid(N_("Choose an officer of this department"), field="assignee")
    if task.status not in applications.DECIDABLE:
        raise Conflict(N_("This task is not waiting for a decision"), field="status")
    if task.version != version:
        raise Conflict(N_("The task was changed meanwhile; reload it and decide again"), field="version")
    now = now or utcnow()
    previous = task.assignee_account_id
    task.assignee_account_id = target.id
    task.version += 1
    session.add(ApplicationEvent(application_id=app.id, task_id=task.id, at=now, kind="task.reassigned",
                                 actor=principal.actor, details={"to": f"account:{target.id}"}))
    record(session, actor=principal.actor, actor_department=principal.department_id, action="task.reassign",
           subject=f"task:{task.id}", department_id=task.department_id, region_code=app.region_code,
           details={"from": f"account:{previous}" if previous else None, "to": f"account:{target.id}"})
    session.flush()
    return task


# --- dashboard ----------------------------------------------------------------------------------


def dashboard(session: Session, *, principal: access.Principal, today: dt.date) -> dict[str, Any]:
    """The department's figures: tasks by status, open tasks overdue, and the on-time rate of
    decisions (decided on or before the promised due date)."""
    _require_staff_view(principal)
    base = _scoped(select(Task.status, func.count()).join(Application, Application.id == Task.application_id),
                   principal)
    by_status = dict.fromkeys(STATUSES, 0)
    for status, n in session.execute(base.group_by(Task.status)).all():
        by_status[status] = int(n)
    open_q = _scoped(select(func.count()).select_from(Task).join(Application, Application.id == Task.application_id)
                     .where(Task.status.in_(applications.DECIDABLE), Task.due_date < today), principal)
    overdue = int(session.scalar(open_q) or 0)
    decided_q = _scoped(select(Task.decided_at, Task.due_date).join(Application, Application.id == Task.application_id)
                        .where(Task.decided_at.is_not(None), Task.due_date.is_not(None),
                               Task.status.in_(("approved", "rejected", "returned"))), principal)
    decided = session.execute(decided_q).all()
    on_time = sum(1 for at, due in decided if sla.local_date(at) <= due)
    rate = round(100 * on_time / len(decided), 1) if decided else None
    return {"by_status": by_status, "overdue": overdue, "decided": len(decided), "on_time": on_time,
            "on_time_rate": rate, "open": by_status["ready"] + by_status["claimed"]}
