"""办件: the engine. A submission becomes one application with a task per item, routed to the
item's department and ordered by the one-thing's dependencies; officers decide tasks
(approve / return for 补正 / reject) with optimistic locking; outputs flow to dependants; a
rejection cancels what depends on it; the application finishes completed, partly completed or
rejected. Every transition is one transaction (the caller's) and one audit event.

Application: draft → submitted → in_progress → completed | partly_completed | rejected | withdrawn.
Task: blocked → ready → claimed (through its review steps) → approved | returned | rejected;
cancelled when a prerequisite is rejected or the application withdrawn.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any, Literal

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tongban import messages
from tongban.core import access, masking, paging, slices, text, workdays
from tongban.core.audit.log import canonical_json, record
from tongban.core.errors import Conflict, Invalid, NotFound, TongbanError
from tongban.core.i18n import N_, pick
from tongban.core.ids import MAX_ID
from tongban.core.keys import Keyring
from tongban.core.timeutil import WorkCalendar, utcnow
from tongban.registry import reads
from tongban.registry.identifiers import validate_resident_id
from tongban.services import (
    catalogue,
    certificates,
    effects,
    materials,
    notice,
    notify,
    onething,
    proxies,
    sla,
)
from tongban.services.models import Application, ApplicationEvent, DataElement, ServiceItem, Task
from tongban.services.prefill import live_consent
from tongban.services.reach import task_in_reach

OPEN_APPLICATION = ("submitted", "in_progress")
DECIDABLE = ("ready", "claimed")
FINISHED_TASK = ("approved", "rejected", "cancelled")
Decision = Literal["approve", "return", "reject"]
PHONE = re.compile(r"^1\d{10}$")

# Told of each new submission inside its transaction (screening marks the offer it takes up as
# applied): slices above services contribute `fn(session, application)` to this extension point
# (core.slices); services know nothing of them.
SUBMITTED = "services.application_submitted"
# Told of each application that finishes completed or partly completed, inside the transaction
# that finishes it (ratings invites a rating): `fn(session, application)`, as SUBMITTED.
COMPLETED = "services.completed"
EARLIEST_DATE = dt.date(1900, 1, 1)  # no date on a form lies before it (a mistyped year, 0002)
_ROUTED = "tongban.routed_tasks"  # session.info key: {application id: the tasks just made}


# --- form data ----------------------------------------------------------------------------------


def validate_data(data: Any, items: Sequence[ServiceItem], elements: Mapping[str, DataElement], *,
                  partial: bool = False) -> dict[str, Any]:
    """Check submitted form data against the items' elements; return it cleaned. The first fault
    raises `Invalid` naming its field. `partial` (a 补正 answer) checks only the fields given."""
    if not isinstance(data, dict):
        raise Invalid(N_("The form data must be an object"), field="data")
    required: dict[str, bool] = {}
    oldest: dict[str, int] = {}  # a date field's limit in days back: the strictest of the items' forms
    for item in items:
        for f in item.definition["form"]:
            required[f["element"]] = required.get(f["element"], False) or bool(f.get("required", True))
            if f.get("max_age_days"):
                oldest[f["element"]] = min(oldest.get(f["element"], f["max_age_days"]), f["max_age_days"])
    for key in data:
        if key not in required:
            raise Invalid(N_("This form has no such field"), field=f"data.{key}")
    clean: dict[str, Any] = {}
    for el_id, is_required in required.items():
        value = data.get(el_id)
        if value is None or (isinstance(value, str) and not value.strip()):
            if is_required and not partial:
                raise Invalid(N_("This field is required"), field=f"data.{el_id}")
            continue
        clean[el_id] = _clean_value(elements[el_id].definition, value, f"data.{el_id}", oldest.get(el_id))
    return clean


def _clean_value(element: Mapping[str, Any], value: Any, field: str, max_age_days: int | None = None) -> Any:
    kind = element["type"]
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(N_("Enter a whole number"), field=field)
        if not -MAX_ID - 1 <= value <= MAX_ID:  # what a 64-bit column, JSON and the policies hold
            raise Invalid(N_("This number is out of range"), field=field)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise Invalid(N_("Enter true or false"), field=field)
        return value
    if not isinstance(value, str):
        raise Invalid(N_("Enter text"), field=field)
    value = value.strip()
    if element.get("format") == "person_name":  # the data element's character rule decides
        return text.person_name(value, field=field, max_length=element.get("max_length"))
    value = text.free_text(value, field=field, max_length=element.get("max_length"))
    if kind == "date":
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise Invalid(N_("Enter a date as YYYY-MM-DD"), field=field) from None
        today = sla.local_date(utcnow())
        if day > today:
            raise Invalid(N_("The date is in the future"), field=field)
        if day < EARLIEST_DATE:
            raise Invalid(N_("Enter a date on or after 1 January 1900"), field=field)
        if max_age_days and day < today - dt.timedelta(days=max_age_days):
            raise Invalid(N_("The date is too long ago: at most %(days)s days back"), field=field, days=max_age_days)
        return day.isoformat()
    if kind == "enum":
        if value not in element["enum"]:
            raise Invalid(N_("Choose one of the listed values"), field=field)
        return value
    if element.get("format") == "resident_id":
        return validate_resident_id(value, field=field).number
    if element.get("format") == "phone" and not PHONE.match(value):
        raise Invalid(N_("Enter an 11-digit mobile number"), field=field)
    return value


# --- submission ---------------------------------------------------------------------------------


def _request_hash(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(body)).encode()).hexdigest()


def _by_key(session: Session, account_id: int | None, key: str) -> Application | None:
    """The application the filer `account_id` sent under `key` (keys are the filer's)."""
    return session.scalar(select(Application).where(Application.filed_by_account_id == account_id,
                                                    Application.idempotency_key == key))


def _replay(existing: Application, request_hash: str) -> tuple[Application, bool]:
    if existing.request_hash != request_hash:
        raise Conflict(N_("This idempotency key was used for another request"), field="Idempotency-Key")
    return existing, False


def _check_key(idempotency_key: str | None) -> str:
    if not idempotency_key or len(idempotency_key) > 200:
        raise Invalid(N_("Send an Idempotency-Key header (at most 200 characters)"), field="Idempotency-Key")
    return idempotency_key


_INSERT_ONCE: dict[str, Any] = {}  # the statement per dialect, built once (its compiled form is cached)


def _insert_once(session: Session, values: dict[str, Any]) -> Application | None:
    """Insert the application unless the filer's key is taken (then None): one statement,
    `INSERT … ON CONFLICT DO NOTHING RETURNING`, instead of a savepoint around a flush."""
    dialect = session.get_bind().dialect.name
    stmt = _INSERT_ONCE.get(dialect)
    if stmt is None:
        dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = _INSERT_ONCE[dialect] = (
            dialect_insert(Application).on_conflict_do_nothing(index_elements=["filed_by_account_id", "idempotency_key"])
            .returning(Application).execution_options(render_nulls=True))
    return session.scalars(stmt, [values]).first()


def _what(session: Session, onething_id: str | None, item_id: str | None,
          chosen: Sequence[str] | None = None) -> tuple[list[ServiceItem], dict[str, list[str]]]:
    """The items applied for (a one-thing's `chosen` ones, see `onething.resolve_choice`) and
    their dependencies among them (from the catalogue snapshot: no query)."""
    if (onething_id is None) == (item_id is None):
        raise Invalid(N_("Apply for either a one-thing or an item"), field="onething_id")
    cat = catalogue.current(session)
    if onething_id is not None:
        ot = cat.onething(onething_id)
        picked, requires = onething.resolve_choice(ot.definition, chosen)
        return cat.items_of(ot, picked), requires
    if chosen is not None:
        raise Invalid(N_("Only a one-thing's items can be chosen"), field="items")
    item = cat.item(str(item_id))
    if not item.definition.get("published", True):  # 未上线: loaded, not offered
        raise NotFound(N_("No such service item"), field="item_id")
    return [item], {}


def submit(session: Session, *, principal: access.Principal, idempotency_key: str | None,
           onething_id: str | None = None, item_id: str | None = None, data: Any = None,
           consent_id: int | None = None, draft: bool = False, on_behalf_of: int | None = None,
           counter: Mapping[str, Any] | None = None, items: Sequence[str] | None = None,
           now: dt.datetime | None = None, calendar: WorkCalendar | None = None,
           attach: Callable[[Application], None] | None = None) -> tuple[Application, bool]:
    """Submit once (一次提交), or save a draft (`draft`: only the fields given are checked and
    nothing is routed); `items` names the one-thing's items chosen (its default choice if None,
    see `onething.resolve_choice`). Filed for oneself, for a grantor or ward (`on_behalf_of`,
    代办), or at a counter for a resident (`counter`, 一窗受理). `attach(application)` adds the
    materials sent with the form (the pages' uploads) once the application exists, before the
    required materials are checked and it is routed. Returns (application, created); a repeat of
    the filer's key returns the first."""
    if counter is not None and on_behalf_of is not None:
        raise Invalid(N_("File either at the counter or on someone's behalf"), field="on_behalf_of")
    if counter is not None:
        access.require(principal, "counter.file")
    else:
        access.require(principal, "self.apply")
    if draft and idempotency_key is None:
        idempotency_key = "draft:" + secrets.token_hex(12)
    idempotency_key = _check_key(idempotency_key)
    applied, requires = _what(session, onething_id, item_id, items)  # the chosen items, resolved first
    request_hash = _request_hash({"onething_id": onething_id, "item_id": item_id, "data": data,
                                  "consent_id": consent_id, "draft": draft, "on_behalf_of": on_behalf_of,
                                  "counter": dict(counter) if counter is not None else None,
                                  **({"items": list(items)} if items is not None else {})})
    # A repeat of the key is found by the insert below (ON CONFLICT), which saves a query on every
    # first submission; a repeat that the checks refuse now (its consent used, its form changed) is
    # looked up here instead, and answered as a repeat all the same.
    try:
        elements = catalogue.current(session).elements_of(applied)
        clean = validate_data(data if data is not None else {}, applied, elements, partial=draft)
        filer = proxies.filer_for(session, principal=principal, on_behalf_of=on_behalf_of, counter=counter,
                                  scopes=[x for x in (onething_id, item_id) if x])
        consent = None
        if consent_id is not None and filer.kind != "self":
            raise Invalid(N_("A prefill consent is for your own applications"), field="consent_id")
        if consent_id is not None and (onething_id or item_id) is not None:  # a one-thing's, or a single item's
            consent = live_consent(session, principal=principal, consent_id=consent_id,
                                   onething_id=str(onething_id or item_id))
            if consent.application_ref is not None:
                raise Conflict(N_("This consent was used for another application"), field="consent_id")
        if not draft and attach is None:
            materials.require_complete(session, application=None, items=applied)
    except TongbanError:
        existing = _by_key(session, principal.account_id, idempotency_key)
        if existing is not None:
            return _replay(existing, request_hash)
        raise
    now = now or utcnow()
    pack = catalogue.current(session).pack
    app = _insert_once(session, dict(
        applicant_account_id=filer.applicant_account_id, applicant_person_id=filer.person.id,
        filed_by_account_id=principal.account_id, filing=filer.kind, filing_consent=filer.consent,
        onething_id=onething_id, item_id=item_id,
        items=[i.id for i in applied] if onething_id is not None else None,
        status="draft" if draft else "submitted", data=clean,
        region_code=filer.person.region_code, pack_id=pack[0] if pack else None,
        pack_version=pack[1] if pack else None, idempotency_key=idempotency_key, request_hash=request_hash,
        consent_id=consent_id, version=1, created_at=now, submitted_at=None if draft else now))
    if app is None:
        # Another request with this key committed first: answer as its repeat.
        existing = _by_key(session, principal.account_id, idempotency_key)
        if existing is None:
            raise Conflict(N_("This idempotency key was used for another request"), field="Idempotency-Key")
        return _replay(existing, request_hash)
    if consent is not None:
        consent.application_ref = str(app.id)
    if attach is not None:
        attach(app)
        if not draft:
            materials.require_complete(session, application=app, items=applied)
    if draft:
        record_event(session, app, None, "draft.saved", principal.actor, {"fields": sorted(clean)}, now)
        record(session, actor=principal.actor, action="application.draft", subject=f"application:{app.id}",
               region_code=app.region_code, details={"onething": onething_id, "item": item_id,
                                                     "filing": app.filing, "fields": sorted(clean)})
        return app, True
    _route(session, app, applied, requires, principal=principal, now=now, calendar=calendar)
    return app, True


def _route(session: Session, app: Application, items: Sequence[ServiceItem], requires: Mapping[str, list[str]],
           *, principal: access.Principal, now: dt.datetime, calendar: WorkCalendar | None) -> None:
    """Make the tasks of a submitted application: one per item, routed to its department, in one
    INSERT … RETURNING (kept on the session for the answer: `routed_tasks`); its timeline event,
    audit event and message follow in one flush."""
    rows = []
    for item in items:
        needs = list(requires.get(item.id, []))
        clock = SimpleNamespace(warned_at=None, overdue_at=None, clock_started_on=None, due_date=None,
                                statutory_due_date=None)
        if not needs:
            sla.start_clock(clock, item.definition, now, calendar or workdays.calendar(session))
        rows.append({"application_id": app.id, "item_id": item.id, "department_id": item.department_id,
                     "status": "blocked" if needs else "ready", "step_index": 0, "requires": needs, "inputs": {},
                     "outputs": {}, "version": 1, **vars(clock)})
    # A plain multi-row VALUES (sorted here by id) is cheaper to render and run than the ordered
    # form `sort_by_parameter_order` needs.
    tasks = sorted(session.scalars(insert(Task).returning(Task).execution_options(render_nulls=True), rows),
                   key=lambda t: t.id)
    session.info.setdefault(_ROUTED, {})[app.id] = tasks
    details: dict[str, Any] = {"items": [i.id for i in items]}
    if app.filing != "self":
        details |= {"filing": app.filing, "filed_by": principal.actor}
        if app.filing_consent:
            details["consent"] = app.filing_consent
    record_event(session, app, None, "submitted", principal.actor, details, now)
    record(session, actor=principal.actor, actor_department=principal.department_id, action="application.submit",
           subject=f"application:{app.id}", region_code=app.region_code,
           details={"onething": app.onething_id, "item": app.item_id, "tasks": len(items),
                    "pack": app.pack_id, "pack_version": app.pack_version, "filing": app.filing,
                    "filed_by": principal.actor, "applicant": masking.subject("person", app.applicant_person_id or 0),
                    **({"consent": app.filing_consent} if app.filing_consent else {})})
    with messages.batch(session):
        notify.applicant(session, app, "application.submitted", step="submitted", onething=app.onething_id,
                         item_id=app.item_id, filing=app.filing)
        for t in tasks:
            if t.status == "ready":
                notify.new_task(session, app, t)
    for listener in slices.contributed(SUBMITTED):
        listener(session, app)
    session.flush()


def routed_tasks(session: Session, app: Application) -> list[Task] | None:
    """The tasks `session` just made for `app` (in id order), or None if it made none: the
    answer to a submission needs no query for them."""
    tasks: list[Task] | None = session.info.get(_ROUTED, {}).get(app.id)
    return tasks


def _own_draft(session: Session, principal: access.Principal, application_id: int) -> Application:
    access.require_any(principal, "self.apply", "counter.file")
    app = session.get(Application, application_id)
    if app is None or app.filed_by_account_id != principal.account_id or app.status != "draft":
        if app is not None and app.filed_by_account_id == principal.account_id:
            raise Conflict(N_("This application is no longer a draft"), field="status")
        raise access.NotYours(N_("No such application"), principal=principal, action="application.draft")
    return app


def update_draft(session: Session, *, principal: access.Principal, application_id: int, data: Any,
                 now: dt.datetime | None = None) -> Application:
    """Replace a draft's form data (only the fields given are checked)."""
    app = _own_draft(session, principal, application_id)
    items, _ = _what(session, app.onething_id, app.item_id, app.items)
    clean = validate_data(data if data is not None else {}, items, catalogue.current(session).elements_of(items),
                          partial=True)
    now = now or utcnow()
    app.data = clean
    app.version += 1
    record_event(session, app, None, "draft.saved", principal.actor, {"fields": sorted(clean)}, now)
    record(session, actor=principal.actor, action="application.draft", subject=f"application:{app.id}",
           region_code=app.region_code, details={"fields": sorted(clean)})
    return app


def submit_draft(session: Session, *, principal: access.Principal, application_id: int,
                 idempotency_key: str | None, now: dt.datetime | None = None,
                 calendar: WorkCalendar | None = None) -> tuple[Application, bool]:
    """Submit a saved draft: the whole form is checked now, and its materials; then it is routed.
    A repeat of the key answers with the submitted application."""
    access.require_any(principal, "self.apply", "counter.file")
    idempotency_key = _check_key(idempotency_key)
    request_hash = _request_hash({"submit_draft": application_id})
    existing = _by_key(session, principal.account_id, idempotency_key)
    if existing is not None:
        return _replay(existing, request_hash)
    app = _own_draft(session, principal, application_id)
    # Lock the draft row so two submissions of it cannot both route it.
    bumped = session.execute(update(Application).where(Application.id == app.id, Application.status == "draft",
                                                       Application.version == app.version)
                             .values(version=app.version + 1).execution_options(synchronize_session=False))
    if getattr(bumped, "rowcount", 0) != 1:
        existing = _by_key(session, principal.account_id, idempotency_key)
        if existing is not None:
            return _replay(existing, request_hash)
        raise Conflict(N_("This application is no longer a draft"), field="status")
    session.refresh(app)
    items, requires = _what(session, app.onething_id, app.item_id, app.items)
    app.data = validate_data(app.data, items, catalogue.current(session).elements_of(items))
    if app.filing == "counter":  # the officer must still be one, for this resident's region
        access.require(principal, "counter.file")
        access.require_region(principal, app.region_code)
    elif app.filing != "self":  # the proxy's authorisation must still hold when it is submitted
        proxies.check_still_authorised(session, principal=principal, app=app,
                                       scopes=[x for x in (app.onething_id, app.item_id) if x])
    materials.require_complete(session, application=app, items=items)
    now = now or utcnow()
    app.status = "submitted"
    app.submitted_at = now
    app.idempotency_key = idempotency_key
    app.request_hash = request_hash
    session.flush()
    _route(session, app, items, requires, principal=principal, now=now, calendar=calendar)
    return app, True


# --- reading ------------------------------------------------------------------------------------


def tasks_of(session: Session, application_id: int) -> list[Task]:
    return list(session.scalars(select(Task).where(Task.application_id == application_id).order_by(Task.id)))


def get_application(session: Session, *, principal: access.Principal, application_id: int,
                    parties_only: bool = False, audit: bool = True) -> Application:
    """The application, for its parties (`can_read`). A platform admin who is not one may read it
    too (not a draft). The resident portal asks for `parties_only`: its pages are the applicant's
    own view, every field in clear, and nobody else's.

    Every read by anyone but the applicant's side (staff of a department in it, a platform admin,
    an API client) is recorded in the audit chain as `application.read`, in the caller's
    transaction; a caller that records its own, narrower read (a material) passes `audit=False`."""
    access.require_login(principal)  # a stranger learns nothing, not even whether the id exists
    app = session.get(Application, application_id)
    # Not a party, or no such application: one answer (404, audited) for both, so that a caller
    # cannot tell which ids exist (issue #18 item 6).
    if app is None:
        raise access.NotYours(N_("No such application"), principal=principal, action="application.read")
    override = not can_read(session, principal, app)
    if override and not (access.may_override_application_read(principal) and not parties_only and app.status != "draft"):
        raise access.NotYours(N_("No such application"), principal=principal, action="application.read")
    if audit and principal.kind != "resident":
        record(session, actor=principal.actor, actor_department=principal.department_id, action="application.read",
               subject=f"application:{app.id}", region_code=app.region_code, purpose="application review",
               details={"application": app.id, **({"override": "platform.admin"} if override else {})})
    return app


def can_read(session: Session, principal: access.Principal, app: Application) -> bool:
    """Parties only: the applicant, who filed it (a proxy or guardian; a draft only them), the
    applicant's live proxies, and staff of the departments with a task in it."""
    departments = {t.department_id for t in tasks_of(session, app.id)}
    proxy_accounts = set() if app.status == "draft" else proxies.proxy_accounts(session, app)
    return access.can_read_application(principal, applicant_account_id=app.applicant_account_id,
                                       department_ids=departments, region_code=app.region_code,
                                       filer_account_id=app.filed_by_account_id, draft=app.status == "draft",
                                       proxy_account_ids=proxy_accounts)


def mine(session: Session, *, principal: access.Principal, limit: int = paging.DEFAULT_LIMIT,
         cursor: str | None = None) -> tuple[list[Application], str | None]:
    """The caller's applications, newest first, one page: those for them (not others' drafts)
    and those they filed; with the cursor of the next page (None on the last)."""
    access.require(principal, "self.read")
    paging.check_limit(limit)
    q = select(Application).where(or_(
        and_(Application.applicant_account_id == principal.account_id, Application.status != "draft"),
        Application.filed_by_account_id == principal.account_id))
    if (before := paging.decode_cursor(cursor)) is not None:
        q = q.where(Application.id < before)
    rows = list(session.scalars(q.order_by(Application.id.desc()).limit(limit + 1)))
    return paging.page_of(rows, limit, key=lambda a: a.id)


def timeline(session: Session, application_id: int) -> list[ApplicationEvent]:
    return list(session.scalars(select(ApplicationEvent).where(ApplicationEvent.application_id == application_id)
                                .order_by(ApplicationEvent.id)))


# --- deciding -----------------------------------------------------------------------------------


def decide(session: Session, *, principal: access.Principal, task_id: int, decision: Decision,
           version: int | None, keyring: Keyring, reason: str | None = None,
           outputs: Mapping[str, Any] | None = None, now: dt.datetime | None = None,
           calendar: WorkCalendar | None = None) -> Task:
    """An officer's decision on one step of a task (deciding claims the task)."""
    access.require(principal, "task.decide")
    task, app = task_in_reach(session, principal, task_id)
    item = catalogue.current(session).item(task.item_id).definition
    step = item["steps"][task.step_index]
    access.require_step_role(principal, step["role"])
    access.require_step_level(principal, step.get("level", "county"), app.region_code)
    if decision not in ("approve", "return", "reject"):
        raise Invalid(N_("Decide approve, return or reject"), field="decision")
    if version is None:
        raise Invalid(N_("Send the task version you decided on"), field="version")
    reason = (reason or "").strip() or None
    if decision != "approve" and reason is None:
        raise Invalid(N_("Give the reason for the resident"), field="reason")
    if reason is not None:
        text.free_text(reason, field="reason", max_length=500)
    outputs = dict(outputs or {})
    for key in outputs:
        if key not in item["outputs"].get("decision_fields", []):
            raise Invalid(N_("This item has no such output"), field=f"outputs.{key}")
        # An output is a data element's value like a form's (it is printed on certificates).
        element = session.get(DataElement, key)
        if element is not None and outputs[key] is not None:
            outputs[key] = _clean_value(element.definition, outputs[key], f"outputs.{key}")
    if app.status not in OPEN_APPLICATION:
        raise Conflict(N_("This application is no longer open"), field="status")
    if task.status not in DECIDABLE:
        raise Conflict(N_("This task is not waiting for a decision"), field="status")
    if task.version != version:
        raise Conflict(N_("The task was changed meanwhile; reload it and decide again"), field="version")
    _require_separation(session, principal, task, item, step)
    # The guard: of two concurrent decisions on one version, only one updates a row.
    bumped = session.execute(update(Task).where(Task.id == task.id, Task.version == version)
                             .values(version=version + 1).execution_options(synchronize_session=False))
    if getattr(bumped, "rowcount", 0) != 1:
        raise Conflict(N_("The task was changed meanwhile; reload it and decide again"), field="version")
    session.refresh(task)
    if task.status not in DECIDABLE:  # decided by someone else between our read and our update
        raise Conflict(N_("The task was changed meanwhile; reload it and decide again"), field="version")

    now = now or utcnow()
    task.assignee_account_id = principal.account_id
    task.decided_at = now
    task.reason = reason
    if app.status == "submitted":
        app.status = "in_progress"
    details: dict[str, Any] = {"application": app.id, "item": task.item_id, "step": step["id"]}
    if decision == "approve":
        task.outputs = {**task.outputs, **outputs}
        if task.step_index + 1 < len(item["steps"]):
            task.step_index += 1
            task.status = "claimed"
        elif item.get("notice_days"):  # 公示 before the approval takes effect
            notice.begin(session, app, task, item, now=now, calendar=calendar)
        else:
            approve_task(session, app, task, item, principal=principal, keyring=keyring, now=now)
    elif decision == "return":
        task.status = "returned"
        notify.applicant(session, app, "task.returned", task=task, item_id=task.item_id, task_id=task.id,
                         reason=reason)
    else:
        task.status = "rejected"
        cancelled = _cancel_dependants(session, app, task, now)
        details["cancelled"] = cancelled
        notify.applicant(session, app, "task.rejected", task=task, item_id=task.item_id, reason=reason,
                         cancelled=cancelled)
    record_event(session, app, task, f"task.{decision}", principal.actor, {**details, "reason": reason}, now)
    record(session, actor=principal.actor, actor_department=principal.department_id, action=f"task.{decision}",
           subject=f"task:{task.id}", department_id=task.department_id, region_code=app.region_code,
           details=details)
    advance(session, app, principal=principal, keyring=keyring, now=now, calendar=calendar)
    session.flush()
    return task


def step_deciders(session: Session, task: Task) -> dict[str, str]:
    """Who approved each step of `task` so far: step id → the actor of its latest approval."""
    out: dict[str, str] = {}
    for e in session.scalars(select(ApplicationEvent).where(ApplicationEvent.task_id == task.id,
                                                            ApplicationEvent.kind == "task.approve")
                             .order_by(ApplicationEvent.id)):
        step_id = (e.details or {}).get("step")
        if isinstance(step_id, str):
            out[step_id] = e.actor
    return out


def _require_separation(session: Session, principal: access.Principal, task: Task, item: Mapping[str, Any],
                        step: Mapping[str, Any]) -> None:
    """审批分离: a step that is `separate_from` an earlier one is decided by another officer than
    the one who approved that earlier step (`Conflict`, field `decision`, naming both steps)."""
    earlier = step.get("separate_from")
    if not earlier or step_deciders(session, task).get(earlier) != principal.actor:
        return
    titles = {s["id"]: s["title"] for s in item["steps"]}
    raise Conflict(N_("You decided the step %(earlier)s of this application; the step %(step)s must be decided "
                      "by another officer (审批分离)"), field="decision",
                   earlier=pick(titles.get(earlier) or {"zh": earlier, "en": earlier}), step=pick(step["title"]))


def approve_task(session: Session, app: Application, task: Task, item: Mapping[str, Any], *,
             principal: access.Principal, keyring: Keyring, now: dt.datetime) -> None:
    out = item["outputs"]
    produced: dict[str, Any] = {}
    if out["effect"] == "register_birth":
        produced |= effects.register_birth(session, applicant_person_id=int(app.applicant_person_id or 0),
                                           data=app.data, actor=principal.actor, department_id=task.department_id)
    elif out["effect"] == "enrol":
        person_id = task.inputs.get("newborn_person_id") or app.applicant_person_id
        produced |= effects.enrol(session, person_id=int(person_id or 0), benefit_code=out["benefit_code"],
                                  start=sla.local_date(now), actor=principal.actor, department_id=task.department_id)
    task.status = "approved"
    task.outputs = {**task.outputs, **produced}
    if out.get("certificate"):
        task.outputs = {**task.outputs, "certificate_pending": out["certificate"]}
    _issue_pending(session, app, keyring=keyring, actor=principal.actor, now=now, final=False)


def _newborn_id(session: Session, app: Application) -> int | None:
    for t in tasks_of(session, app.id):
        if t.outputs.get("newborn_person_id"):
            return int(t.outputs["newborn_person_id"])
    return None


def _issue_pending(session: Session, app: Application, *, keyring: Keyring, actor: str, now: dt.datetime,
                   final: bool) -> None:
    """Issue the certificates of approved tasks whose holder exists. A newborn's certificates wait
    for the household registration; if it never comes, the applicant holds them as guardian."""
    newborn = _newborn_id(session, app)
    for t in tasks_of(session, app.id):
        type_id = t.outputs.get("certificate_pending")
        if t.status != "approved" or not type_id:
            continue
        holder_kind = catalogue.current(session).item(t.item_id).definition["outputs"]["holder"]
        holder_id = newborn if holder_kind == "newborn" else app.applicant_person_id
        if holder_id is None and final:
            holder_id = app.applicant_person_id
        if holder_id is None:
            continue
        holder = reads.person_that_exists(session, holder_id)
        values = {**app.data, **{k: v for k, v in t.outputs.items() if isinstance(v, str | int)}}
        cert = certificates.issue(session, keyring=keyring, type_id=type_id, holder=holder, values=values,
                                  issue_date=sla.local_date(now), actor=actor, application_id=app.id)
        outputs = {k: v for k, v in t.outputs.items() if k != "certificate_pending"}
        t.outputs = {**outputs, "certificate_id": cert.id}


def _cancel_dependants(session: Session, app: Application, task: Task, now: dt.datetime) -> list[str]:
    requires = {t.item_id: t.requires for t in tasks_of(session, app.id)}
    doomed = onething.dependants(task.item_id, requires)
    cancelled = []
    for t in tasks_of(session, app.id):
        if t.item_id in doomed and t.status not in FINISHED_TASK:
            t.status = "cancelled"
            t.reason = f"prerequisite {task.item_id} rejected"
            t.version += 1
            cancelled.append(t.item_id)
            record_event(session, app, t, "task.cancelled", "system", {"because": task.item_id}, now)
    return sorted(cancelled)


def advance(session: Session, app: Application, *, principal: access.Principal, keyring: Keyring,
            now: dt.datetime, calendar: WorkCalendar | None) -> None:
    """Unblock tasks whose prerequisites are all approved (their outputs become its inputs);
    finish the application when every task is finished."""
    tasks = tasks_of(session, app.id)
    by_item = {t.item_id: t for t in tasks}
    for t in tasks:
        if t.status != "blocked" or not all(by_item[n].status == "approved" for n in t.requires):
            continue
        inputs: dict[str, Any] = {}
        for n in t.requires:
            inputs |= by_item[n].inputs | by_item[n].outputs
        t.inputs = {k: v for k, v in inputs.items() if k != "certificate_pending"}
        t.status = "ready"
        t.version += 1
        sla.start_clock(t, catalogue.current(session).item(t.item_id).definition, now,
                        calendar or workdays.calendar(session))
        record_event(session, app, t, "task.ready", "system", {"item": t.item_id}, now)
        notify.new_task(session, app, t)
    if all(t.status in FINISHED_TASK for t in tasks):
        _issue_pending(session, app, keyring=keyring, actor=principal.actor, now=now, final=True)
        approved = [t.item_id for t in tasks if t.status == "approved"]
        app.status = ("completed" if len(approved) == len(tasks) else "partly_completed" if approved else "rejected")
        app.finished_at = now
        app.version += 1
        outcome = {t.item_id: t.status for t in tasks}
        record_event(session, app, None, f"application.{app.status}", "system", {"tasks": outcome}, now)
        record(session, actor=principal.actor, action="application.finish", subject=f"application:{app.id}",
               region_code=app.region_code, details={"status": app.status, "tasks": outcome})
        notify.applicant(session, app, "application.finished", step=app.status, status=app.status, tasks=outcome)
        if app.status in ("completed", "partly_completed"):
            for listener in slices.contributed(COMPLETED):
                listener(session, app)


# --- the applicant's actions ---------------------------------------------------------------------


def _own_application(session: Session, principal: access.Principal, application_id: int) -> Application:
    """The applicant's application, or one the caller filed for a grantor or ward."""
    access.require(principal, "self.apply")
    app = session.get(Application, application_id)
    if app is None or not (app.applicant_account_id == principal.account_id or (
            app.filing in ("proxy", "guardian") and app.filed_by_account_id == principal.account_id)):
        raise access.NotYours(N_("No such application"), principal=principal, action="application.own")
    return app


def withdraw(session: Session, *, principal: access.Principal, application_id: int,
             now: dt.datetime | None = None) -> Application:
    """The applicant withdraws (撤回): open tasks are cancelled, nothing more can be decided."""
    app = _own_application(session, principal, application_id)
    if app.status not in OPEN_APPLICATION:
        raise Conflict(N_("This application is no longer open"), field="status")
    now = now or utcnow()
    for t in tasks_of(session, app.id):
        if t.status not in FINISHED_TASK:
            t.status = "cancelled"
            t.reason = "withdrawn"
            t.version += 1
    app.status = "withdrawn"
    app.finished_at = now
    app.version += 1
    record_event(session, app, None, "application.withdrawn", principal.actor, {}, now)
    record(session, actor=principal.actor, action="application.withdraw", subject=f"application:{app.id}",
           region_code=app.region_code)
    notify.applicant(session, app, "application.withdrawn", step="withdrawn")
    return app


def supplement(session: Session, *, principal: access.Principal, application_id: int, task_id: int, data: Any,
               now: dt.datetime | None = None, calendar: WorkCalendar | None = None) -> Task:
    """补正: the applicant answers a returned task; its clock restarts from the answer."""
    app = _own_application(session, principal, application_id)
    task = session.get(Task, task_id)
    if task is None or task.application_id != app.id:
        raise NotFound(N_("No such task"))
    if app.status not in OPEN_APPLICATION or task.status != "returned":
        raise Conflict(N_("This task is not waiting for a supplement"), field="status")
    item = catalogue.current(session).item(task.item_id)
    clean = validate_data(data, [item], onething.elements_of(session, [item]), partial=True)
    now = now or utcnow()
    app.data = {**app.data, **clean}
    app.version += 1
    task.status = "ready" if task.step_index == 0 else "claimed"
    task.version += 1
    sla.start_clock(task, item.definition, now, calendar or workdays.calendar(session))
    record_event(session, app, task, "task.supplemented", principal.actor, {"fields": sorted(clean)}, now)
    record(session, actor=principal.actor, action="task.supplement", subject=f"task:{task.id}",
           department_id=task.department_id, region_code=app.region_code, details={"fields": sorted(clean)})
    return task


def record_event(session: Session, app: Application, task: Task | None, kind: str, actor: str,
           details: dict[str, Any], now: dt.datetime) -> None:
    session.add(ApplicationEvent(application_id=app.id, task_id=task.id if task else None, at=now, kind=kind,
                                 actor=actor, details=details))
