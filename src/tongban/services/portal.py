"""The resident's side of the engine as the portal pages show it: the consent box's list of
what will be read, one field checked on its own (the same rules as a submission), the
applicant's applications, and each application's progress department by department.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from tongban.core import access
from tongban.core.errors import Invalid
from tongban.core.i18n import N_, pick
from tongban.core.identity.models import Account, Department
from tongban.datahub import catalog
from tongban.services import applications, onething
from tongban.services.models import Application, ApplicationEvent, DataElement, ServiceItem, Task

# Whose record a prefilled value comes from, in the reader's language.
WHOSE = {"applicant": N_("your record"), "mother": N_("the mother's record"), "father": N_("the father's record"),
         "household": N_("your household's record")}


def prefill_sources(session: Session, elements: Mapping[str, DataElement]) -> list[dict[str, Any]]:
    """What a consent lets the form read: each element with a registry source, and that source."""
    out = []
    for el in elements.values():
        src = el.definition.get("prefill")
        if not src:
            continue
        dataset = catalog.find_dataset(session, src["dataset"])
        out.append({"element": el.id, "title": pick(el.definition["name"]),
                    "dataset": pick({"zh": dataset.title_zh, "en": dataset.title_en}) if dataset else src["dataset"],
                    "whose": WHOSE.get(src["of"], src["of"])})
    return out


def validate_field(items: Sequence[ServiceItem], elements: Mapping[str, DataElement], element_id: str,
                   value: Any) -> Any:
    """Check one field of a form by the rules a submission uses (`applications.validate_data`):
    the cleaned value, None when it is empty and optional, or `Invalid` naming `data.<element>`."""
    rules = [f for it in items for f in it.definition["form"] if f["element"] == element_id]
    if not rules:
        raise Invalid(N_("This form has no such field"), field=f"data.{element_id}")
    if value is None or (isinstance(value, str) and not value.strip()):
        if any(f.get("required", True) for f in rules):
            raise Invalid(N_("This field is required"), field=f"data.{element_id}")
        return None
    return applications.validate_data({element_id: value}, items, elements, partial=True)[element_id]


def my_applications(session: Session, *, principal: access.Principal, limit: int = 50) -> list[Application]:
    """我要查: the caller's applications, newest first."""
    access.require(principal, "self.read")
    mine = or_(and_(Application.applicant_account_id == principal.account_id, Application.status != "draft"),
               Application.filed_by_account_id == principal.account_id)  # and what they filed for others
    return list(session.scalars(select(Application).where(mine).order_by(Application.id.desc()).limit(limit)))


@dataclass
class TaskProgress:
    """One department's part of an application, as its applicant follows it."""

    task: Task
    item_title: str
    department_name: str
    step_title: str | None
    events: list[ApplicationEvent] = field(default_factory=list)
    form: list[dict[str, Any]] = field(default_factory=list)  # the fields a 补正 answer may change
    # event id -> {"step": the step's title, "officer": who decided} for the rows a person decided
    notes: dict[int, dict[str, str]] = field(default_factory=dict)


STAFF_EVENTS = ("task.approve", "task.return", "task.reject", "task.reassigned", "task.notice_completed")


def _event_notes(session: Session, item: ServiceItem, events: Sequence[ApplicationEvent],
                 names: dict[str, str | None]) -> dict[int, dict[str, str]]:
    """What a timeline row says beyond its kind: the step decided and the officer who decided it."""
    steps = {st["id"]: pick(st["title"]) for st in item.definition["steps"]}
    out: dict[int, dict[str, str]] = {}
    for e in events:
        if e.kind not in STAFF_EVENTS:
            continue
        note: dict[str, str] = {}
        step = (e.details or {}).get("step")
        if isinstance(step, str) and step in steps:
            note["step"] = steps[step]
        if e.actor not in names:
            account = None
            if e.actor.startswith("account:") and e.actor[8:].isdigit():
                account = session.get(Account, int(e.actor[8:]))
            names[e.actor] = account.display_name if account is not None and account.kind == "staff" else None
        officer = names[e.actor]
        if officer:
            note["officer"] = officer
        if note:
            out[e.id] = note
    return out


def filer_notes(session: Session, events: Sequence[ApplicationEvent]) -> dict[int, str]:
    """Who filed an application for someone else, for its `submitted` row: a counter officer by
    name and department, a relative (proxy or guardian) by masked name."""
    from tongban.core import masking

    out: dict[int, str] = {}
    for e in events:
        filed_by = (e.details or {}).get("filed_by") if e.kind == "submitted" else None
        if not isinstance(filed_by, str) or not filed_by.startswith("account:") or not filed_by[8:].isdigit():
            continue
        account = session.get(Account, int(filed_by[8:]))
        if account is None:
            continue
        if account.kind == "staff":
            dept = session.get(Department, account.department_id) if account.department_id else None
            out[e.id] = account.display_name + (f" · {pick({'zh': dept.name_zh, 'en': dept.name_en})}" if dept else "")
        else:
            out[e.id] = masking.name(account.display_name) or ""
    return out


def progress(session: Session, app: Application) -> tuple[list[TaskProgress], list[ApplicationEvent]]:
    """Each task with its own events, and the events of the application as a whole."""
    events = applications.timeline(session, app.id)
    names: dict[str, str | None] = {}
    out = []
    for t in applications.tasks_of(session, app.id):
        item = onething.get_item(session, t.item_id)
        dept = session.get_one(Department, t.department_id)
        steps = item.definition["steps"]
        step = pick(steps[t.step_index]["title"]) if t.status in applications.DECIDABLE else None
        form = []
        if t.status == "returned":
            elements = onething.elements_of(session, [item])
            for f in item.definition["form"]:
                el = elements[f["element"]].definition
                form.append({"id": f["element"], "title": pick(dict(f.get("label") or el["name"])), "element": el,
                             "value": app.data.get(f["element"]),
                             "options": [(v, pick((el.get("enum_labels") or {}).get(v)) or v)
                                         for v in el.get("enum") or []]})
        out.append(TaskProgress(task=t, item_title=pick(item.definition["title"]),
                                department_name=pick({"zh": dept.name_zh, "en": dept.name_en}), step_title=step,
                                events=[e for e in events if e.task_id == t.id], form=form,
                                notes=_event_notes(session, item, [e for e in events if e.task_id == t.id], names)))
    return out, [e for e in events if e.task_id is None]
