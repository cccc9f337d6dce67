"""Services API: one-things and their merged form, applications (办件), the officers'
workbench, the wallet's certificates and their verification, the resident's inbox."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from tongban.core import access
from tongban.core.errors import NotFound
from tongban.core.i18n import N_, pick
from tongban.core.identity.models import Department
from tongban.core.keys import keyring_for
from tongban.core.timeutil import today_local
from tongban.registry.models import Certificate, Guardianship
from tongban.services import applications, certificates, inbox, notice, onething, prefill, sla
from tongban.services.models import Application, ServiceItem, Task
from tongban.web.deps import CurrentPrincipal, DbSession
from tongban.web.schemas import Page

router = APIRouter(tags=["services"])


# --- one-things ---------------------------------------------------------------------------------


class OneThingOut(BaseModel):
    id: str
    title: str
    title_i18n: dict[str, str]
    description: str
    items: list[str]
    requires: dict[str, list[str]]
    savings: dict[str, Any]


@router.get("/onethings", response_model=Page[OneThingOut])
def list_onethings(session: DbSession, principal: CurrentPrincipal) -> Page[OneThingOut]:
    """The one-things (一件事) residents can apply for."""
    access.require_login(principal)
    return Page(items=[OneThingOut(id=o.id, title=pick(o.definition["title"]), title_i18n=o.definition["title"],
                                   description=pick(o.definition["description"]), items=o.definition["items"],
                                   requires=o.definition.get("requires", {}), savings=o.savings)
                       for o in onething.list_onethings(session)])


class ConsentOut(BaseModel):
    consent_id: int


@router.post("/onethings/{onething_id}/consent", response_model=ConsentOut, status_code=201)
def give_consent(onething_id: str, session: DbSession, principal: CurrentPrincipal) -> ConsentOut:
    """一键授权: let this application's form be prefilled from your registry records."""
    access.require(principal, "self.apply")
    ot = onething.get_onething(session, onething_id)
    return ConsentOut(consent_id=prefill.give_consent(session, principal=principal, onething=ot).id)


class FormOut(BaseModel):
    onething_id: str
    schema_: dict[str, Any] = Field(alias="schema", serialization_alias="schema")
    prefill: dict[str, dict[str, Any]]
    savings: dict[str, Any]
    materials: list[dict[str, Any]]

    model_config = {"populate_by_name": True}


@router.get("/onethings/{onething_id}/form", response_model=FormOut, response_model_by_alias=True)
def form(onething_id: str, session: DbSession, principal: CurrentPrincipal, consent_id: int | None = None) -> FormOut:
    """The merged form (each data element once), prefilled only with a consent given for it."""
    access.require(principal, "self.apply")
    ot = onething.get_onething(session, onething_id)
    items = onething.items_of(session, ot)
    elements = onething.elements_of(session, items)
    consent = None
    if consent_id is not None:
        consent = prefill.live_consent(session, principal=principal, consent_id=consent_id, onething_id=ot.id)
    issued = {i.definition["outputs"].get("certificate") for i in items}
    materials: dict[str, dict[str, Any]] = {}
    for i in items:
        for m in i.definition["materials"]:
            if m.get("certificate") not in issued:
                materials.setdefault(m["id"], {"id": m["id"], "title": pick(m["title"]), "types": m["types"],
                                               "max_kb": m["max_kb"], "certificate": m.get("certificate"),
                                               "items": []})["items"].append(i.id)
    return FormOut(onething_id=ot.id, schema_=onething.merged_schema(items, elements),
                   prefill=prefill.prefill(session, principal=principal, consent=consent, elements=elements),
                   savings=ot.savings, materials=list(materials.values()))


# --- applications -------------------------------------------------------------------------------


class ApplicationIn(BaseModel):
    onething_id: str | None = None
    item_id: str | None = None
    data: dict[str, Any] = {}
    consent_id: int | None = None


class TaskOut(BaseModel):
    id: int
    application_id: int
    item_id: str
    item_title: str
    department: str
    department_name: str
    status: str
    step: str | None
    due_date: dt.date | None
    statutory_due_date: dt.date | None
    clock: dict[str, Any]
    version: int
    requires: list[str]
    outputs: dict[str, Any]
    reason: str | None
    notice_ends_on: dt.date | None = None


class EventOut(BaseModel):
    at: dt.datetime
    kind: str
    task_id: int | None
    details: dict[str, Any]


class ApplicationOut(BaseModel):
    id: int
    status: str
    onething_id: str | None
    item_id: str | None
    pack_id: str | None
    pack_version: str | None
    submitted_at: dt.datetime | None
    finished_at: dt.datetime | None
    data: dict[str, Any]
    tasks: list[TaskOut]
    timeline: list[EventOut] = []


def _task_out(session: Any, t: Task) -> TaskOut:
    item = onething.get_item(session, t.item_id).definition
    dept = session.get(Department, t.department_id)
    steps = item["steps"]
    step = steps[t.step_index]["id"] if t.status in applications.DECIDABLE else None
    return TaskOut(id=t.id, application_id=t.application_id, item_id=t.item_id, item_title=pick(item["title"]),
                   department=t.department_id, department_name=pick({"zh": dept.name_zh, "en": dept.name_en}),
                   status=t.status, step=step, due_date=t.due_date, statutory_due_date=t.statutory_due_date,
                   clock=sla.clock(t, today_local()), version=t.version, requires=t.requires,
                   outputs=t.outputs, reason=t.reason, notice_ends_on=t.notice_ends_on)


def _application_out(session: Any, app: Application, *, with_timeline: bool) -> ApplicationOut:
    events = applications.timeline(session, app.id) if with_timeline else []
    tasks = applications.tasks_of(session, app.id)
    # One query each for the tasks' items and departments, held here so that `_task_out`'s
    # lookups hit the session's (weak) identity map instead of querying once per task.
    held = [*session.scalars(select(ServiceItem).where(ServiceItem.id.in_({t.item_id for t in tasks}))),
            *session.scalars(select(Department).where(Department.id.in_({t.department_id for t in tasks})))]
    out = ApplicationOut(
        id=app.id, status=app.status, onething_id=app.onething_id, item_id=app.item_id, pack_id=app.pack_id,
        pack_version=app.pack_version, submitted_at=app.submitted_at, finished_at=app.finished_at, data=app.data,
        tasks=[_task_out(session, t) for t in tasks],
        timeline=[EventOut(at=e.at, kind=e.kind, task_id=e.task_id, details=e.details) for e in events])
    del held
    return out


@router.post("/applications", response_model=ApplicationOut, status_code=201)
def submit(body: ApplicationIn, response: Response, session: DbSession, principal: CurrentPrincipal,
           idempotency_key: str | None = Header(None, alias="Idempotency-Key")) -> ApplicationOut:
    """Submit once (一次提交). A repeat with the same Idempotency-Key answers 200 with the same application."""
    app, created = applications.submit(session, principal=principal, idempotency_key=idempotency_key,
                                       onething_id=body.onething_id, item_id=body.item_id, data=body.data,
                                       consent_id=body.consent_id)
    if not created:
        response.status_code = 200
    return _application_out(session, app, with_timeline=False)


@router.get("/me/applications", response_model=Page[ApplicationOut])
def my_applications(session: DbSession, principal: CurrentPrincipal) -> Page[ApplicationOut]:
    access.require(principal, "self.read")
    rows = session.scalars(select(Application).where(Application.applicant_account_id == principal.account_id)
                           .order_by(Application.id.desc()).limit(50))
    return Page(items=[_application_out(session, a, with_timeline=False) for a in rows])


@router.get("/applications/{application_id}", response_model=ApplicationOut)
def get_application(application_id: int, session: DbSession, principal: CurrentPrincipal) -> ApplicationOut:
    """The application with its tasks and timeline: for the applicant and the departments involved."""
    app = applications.get_application(session, principal=principal, application_id=application_id)
    return _application_out(session, app, with_timeline=True)


@router.post("/applications/{application_id}/withdraw", response_model=ApplicationOut)
def withdraw(application_id: int, session: DbSession, principal: CurrentPrincipal) -> ApplicationOut:
    app = applications.withdraw(session, principal=principal, application_id=application_id)
    return _application_out(session, app, with_timeline=True)


class SupplementIn(BaseModel):
    data: dict[str, Any]


@router.post("/applications/{application_id}/tasks/{task_id}/supplement", response_model=TaskOut)
def supplement(application_id: int, task_id: int, body: SupplementIn, session: DbSession,
               principal: CurrentPrincipal) -> TaskOut:
    """补正: answer a returned task; its clock restarts."""
    task = applications.supplement(session, principal=principal, application_id=application_id, task_id=task_id,
                                   data=body.data)
    return _task_out(session, task)


# --- workbench ----------------------------------------------------------------------------------


@router.get("/workbench/tasks", response_model=Page[TaskOut])
def workbench_tasks(session: DbSession, principal: CurrentPrincipal, status: str = "ready", limit: int = 50,
                    cursor: str | None = None) -> Page[TaskOut]:
    """Your department's queue (in your region); `ready` = waiting for a decision."""
    rows, next_cursor = applications.queue(session, principal=principal, status=status, limit=limit, cursor=cursor)
    return Page(items=[_task_out(session, t) for t, _ in rows], next_cursor=next_cursor)


class DecisionIn(BaseModel):
    decision: Literal["approve", "return", "reject"]
    reason: str | None = Field(None, max_length=500)
    outputs: dict[str, Any] = {}
    version: int


@router.post("/workbench/tasks/{task_id}/decision", response_model=TaskOut)
def decide(task_id: int, body: DecisionIn, request: Request, session: DbSession,
           principal: CurrentPrincipal) -> TaskOut:
    """Approve (this step), return for 补正, or reject, on the version you read (409 if stale)."""
    task = applications.decide(session, principal=principal, task_id=task_id, decision=body.decision,
                               version=body.version, reason=body.reason, outputs=body.outputs,
                               keyring=keyring_for(request.app.state.settings))
    return _task_out(session, task)


class ObjectionIn(BaseModel):
    reason: str = Field(max_length=500)
    version: int


@router.post("/workbench/tasks/{task_id}/objection", response_model=TaskOut)
def objection(task_id: int, body: ObjectionIn, session: DbSession, principal: CurrentPrincipal) -> TaskOut:
    """Record an objection (异议) raised during a task's 公示: it goes back to its last review step."""
    task = notice.object_to(session, principal=principal, task_id=task_id, reason=body.reason, version=body.version)
    return _task_out(session, task)


# --- certificates -------------------------------------------------------------------------------


class WalletCertificate(BaseModel):
    id: int
    type_code: str
    type_name: str
    number: str
    issuer_name: str
    issue_date: str
    valid_to: str | None
    status: str
    holder: dict[str, Any]
    data: dict[str, Any]


def _wallet_holders(session: Any, principal: access.Principal) -> dict[int, str]:
    me = applications.family.applicant_person(session, principal.account_id)
    holders = {me.id: "self"}
    wards = session.scalars(select(Guardianship.ward_person_id).where(Guardianship.guardian_person_id == me.id))
    holders.update({w: "ward" for w in wards})
    return holders


@router.get("/me/certificates", response_model=Page[WalletCertificate])
def my_certificates(session: DbSession, principal: CurrentPrincipal) -> Page[WalletCertificate]:
    """你的数字证件: your certificates and your wards' (a parent sees the newborn's)."""
    access.require(principal, "self.read")
    holders = _wallet_holders(session, principal)
    rows = session.scalars(select(Certificate).where(Certificate.holder_kind == "person",
                                                     Certificate.holder_id.in_(holders))
                           .order_by(Certificate.id))
    out = []
    for c in rows:
        doc = certificates.document(c)
        out.append(WalletCertificate(id=c.id, type_code=c.type_code, type_name=doc["type_name"], number=c.number,
                                     issuer_name=c.issuer_name, issue_date=doc["issue_date"],
                                     valid_to=doc["valid_to"], status=c.status,
                                     holder={"relation": holders[c.holder_id], "person_id": c.holder_id,
                                             "name": doc["holder"]},
                                     data=doc["data"]))
    return Page(items=out)


@router.get("/me/certificates/{certificate_id}/document")
def certificate_document(certificate_id: int, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """The signed document, for the holder or a guardian to keep and show (verifiable offline)."""
    access.require(principal, "self.read")
    cert = session.get(Certificate, certificate_id)
    if cert is None or cert.holder_kind != "person" or cert.holder_id not in _wallet_holders(session, principal):
        raise NotFound(N_("No such certificate"))
    return certificates.document(cert)


@router.get("/certificates/{certificate_id}/verify")
def verify(certificate_id: int, request: Request, session: DbSession) -> dict[str, Any]:
    """Anyone may check a certificate: signature, revocation, expiry (no personal data returned)."""
    return certificates.verify_online(session, keyring=keyring_for(request.app.state.settings),
                                      certificate_id=certificate_id, today=today_local())


# --- inbox --------------------------------------------------------------------------------------


@router.get("/me/messages", response_model=Page[dict[str, Any]])
def my_messages(session: DbSession, principal: CurrentPrincipal) -> Page[dict[str, Any]]:
    """你的消息: notices about your applications, newest first."""
    return Page(items=[inbox.message_dict(m) for m in inbox.my_messages(session, principal=principal)])

