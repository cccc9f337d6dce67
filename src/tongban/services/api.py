"""Services API: one-things and their merged form, applications (办件), the officers'
workbench, the wallet's certificates and their verification, the resident's inbox."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, File, Form, Header, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import select

from tongban.core import access, clock, workdays
from tongban.core.errors import Invalid, NotFound
from tongban.core.i18n import N_, pick
from tongban.core.identity.models import Department
from tongban.core.ids import Id, Version
from tongban.core.keys import keyring_for
from tongban.core.paging import DEFAULT_LIMIT, Limit, decode_cursor, page_of
from tongban.core.storage import storage_for
from tongban.core.text import FreeText
from tongban.registry import reads as registry_reads
from tongban.services import (
    applications,
    catalogue,
    certificates,
    family,
    materials,
    notice,
    onething,
    prefill,
    proxies,
    sla,
)
from tongban.services import queue as staff_queue
from tongban.services.models import Application, Task
from tongban.webkit.deps import CurrentPrincipal, DbSession, commit_now
from tongban.webkit.schemas import Page

if TYPE_CHECKING:  # the record type only: the registry's read functions fetch it
    from tongban.registry.models import Certificate

router = APIRouter(tags=["services"])


# --- one-things ---------------------------------------------------------------------------------


class OneThingOut(BaseModel):
    id: str
    title: str
    title_i18n: dict[str, str]
    description: str
    items: list[str]
    requires: dict[str, list[str]]
    optional: list[str] = []  # items the resident may leave out
    choose_one: list[list[str]] = []  # groups of alternatives
    savings: dict[str, Any]


@router.get("/onethings", response_model=Page[OneThingOut])
def list_onethings(session: DbSession, principal: CurrentPrincipal) -> Page[OneThingOut]:
    """The one-things (一件事) residents can apply for."""
    access.require_login(principal)
    return Page(items=[OneThingOut(id=o.id, title=pick(o.definition["title"]), title_i18n=o.definition["title"],
                                   description=pick(o.definition["description"]), items=o.definition["items"],
                                   requires=o.definition.get("requires", {}),
                                   optional=o.definition.get("optional", []),
                                   choose_one=o.definition.get("choose_one", []), savings=o.savings)
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
    items: list[str]  # the items this form is for (the chosen ones)
    schema_: dict[str, Any] = Field(alias="schema", serialization_alias="schema")
    prefill: dict[str, dict[str, Any]]
    savings: dict[str, Any]
    materials: list[dict[str, Any]]

    model_config = {"populate_by_name": True}


@router.get("/onethings/{onething_id}/form", response_model=FormOut, response_model_by_alias=True)
def form(onething_id: str, session: DbSession, principal: CurrentPrincipal, consent_id: Id | None = None,
         items_: list[str] | None = Query(None, alias="items")) -> FormOut:
    """The merged form (each data element once) of the chosen `items` (repeat the parameter; the
    default choice without it), prefilled only with a consent given for it, with its savings."""
    access.require(principal, "self.apply")
    ot = onething.get_onething(session, onething_id)
    picked, _ = onething.resolve_choice(ot.definition, items_)
    items = onething.items_of(session, ot, picked)
    elements = onething.elements_of(session, items)
    consent = None
    if consent_id is not None:
        consent = prefill.live_consent(session, principal=principal, consent_id=consent_id, onething_id=ot.id)
    issued = {c for i in items if (c := i.definition["outputs"].get("certificate"))}
    materials: dict[str, dict[str, Any]] = {}
    for i in items:
        for m in i.definition["materials"]:
            if m.get("certificate") not in issued:
                materials.setdefault(m["id"], {"id": m["id"], "title": pick(m["title"]), "types": m["types"],
                                               "max_kb": m["max_kb"], "certificate": m.get("certificate"),
                                               "required": bool(m.get("required", True)), "items": []})["items"].append(i.id)
    savings = ot.savings if items_ is None else onething.choice_savings(
        ot.definition, {i.id: i.definition for i in items}, picked)
    return FormOut(onething_id=ot.id, items=picked, schema_=onething.merged_schema(items, elements),
                   prefill=prefill.prefill(session, principal=principal, consent=consent, elements=elements),
                   savings=savings, materials=list(materials.values()))


# --- applications -------------------------------------------------------------------------------


class CounterConsentIn(BaseModel):
    method: str = Field(max_length=40)
    note: FreeText | None = Field(None, max_length=500)


class ApplicationIn(BaseModel):
    onething_id: str | None = None
    item_id: str | None = None
    items: list[str] | None = None  # a one-thing's items chosen (its optional / choose_one ones)
    data: dict[str, Any] = {}
    consent_id: Id | None = None
    draft: bool = False  # save as a draft: only the fields given are checked, nothing is routed
    on_behalf_of: Id | None = None  # 代办: the person id of a grantor or ward
    id_number: str | None = None  # 一窗受理: the resident a counter officer files for …
    consent: CounterConsentIn | None = None  # … and how they agreed


class DraftIn(BaseModel):
    data: dict[str, Any] = {}


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
    warning: bool = False  # flagged at 80 % of the promised time limit
    overdue: bool = False  # flagged past the promised due date
    notice_ends_on: dt.date | None = None
    # The due dates were counted through a year with no working-day schedule (Monday–Friday):
    # an estimate until the year's schedule is loaded (`tongban calendar load`).
    due_estimated: bool = False


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
    items: list[str] | None = None  # a one-thing's items applied for
    pack_id: str | None
    pack_version: str | None
    submitted_at: dt.datetime | None
    finished_at: dt.datetime | None
    data: dict[str, Any]
    applicant_person_id: int | None = None
    filing: str = "self"  # self | proxy | guardian | counter
    filed_by: str | None = None
    filing_consent: dict[str, Any] | None = None
    tasks: list[TaskOut]
    timeline: list[EventOut] = []


def _task_out(session: Any, t: Task) -> TaskOut:
    cat = catalogue.current(session)
    item = cat.item(t.item_id).definition
    dept = cat.departments.get(t.department_id) or session.get_one(Department, t.department_id)
    steps = item["steps"]
    step = steps[t.step_index]["id"] if t.status in applications.DECIDABLE else None
    cal = workdays.calendar(session)
    return TaskOut(id=t.id, application_id=t.application_id, item_id=t.item_id, item_title=pick(item["title"]),
                   department=t.department_id, department_name=pick({"zh": dept.name_zh, "en": dept.name_en}),
                   status=t.status, step=step, due_date=t.due_date, statutory_due_date=t.statutory_due_date,
                   clock=sla.clock(t, clock.today(), cal), version=t.version, requires=t.requires,
                   outputs=t.outputs, reason=t.reason, warning=t.warned_at is not None,
                   overdue=t.overdue_at is not None, notice_ends_on=t.notice_ends_on,
                   due_estimated=bool(sla.estimated_years(t, cal)))


def _application_out(session: Any, app: Application, *, with_timeline: bool) -> ApplicationOut:
    events = applications.timeline(session, app.id) if with_timeline else []
    tasks = applications.routed_tasks(session, app) or applications.tasks_of(session, app.id)
    # Items and departments come from the catalogue; a department it lacks is loaded here (one
    # query) and held so that `_task_out` finds it in the session's (weak) identity map.
    known = catalogue.current(session).departments
    held = list(session.scalars(select(Department).where(Department.id.in_(
        {t.department_id for t in tasks} - set(known))))) if any(t.department_id not in known for t in tasks) else []
    out = ApplicationOut(
        id=app.id, status=app.status, onething_id=app.onething_id, item_id=app.item_id, items=app.items,
        pack_id=app.pack_id,
        pack_version=app.pack_version, submitted_at=app.submitted_at, finished_at=app.finished_at, data=app.data,
        applicant_person_id=app.applicant_person_id, filing=app.filing,
        filed_by=f"account:{app.filed_by_account_id}" if app.filed_by_account_id else None,
        filing_consent=app.filing_consent, tasks=[_task_out(session, t) for t in tasks],
        timeline=[EventOut(at=e.at, kind=e.kind, task_id=e.task_id, details=e.details) for e in events])
    del held
    return out


@router.post("/applications", response_model=ApplicationOut, status_code=201)
def submit(body: ApplicationIn, response: Response, session: DbSession, principal: CurrentPrincipal,
           idempotency_key: str | None = Header(
               None, alias="Idempotency-Key", max_length=200,
               description="Required unless `draft` is true (a draft gets one of its own); 422 without it.")
           ) -> ApplicationOut:
    """Submit once (一次提交), or save a draft (`"draft": true`). File for a grantor or ward with
    `on_behalf_of`; a counter officer files for a resident with `id_number` and `consent`.
    A repeat with the same Idempotency-Key answers 200 with the same application."""
    counter = None
    if body.id_number is not None or body.consent is not None:
        counter = {"id_number": body.id_number, "consent": body.consent.model_dump() if body.consent else None}
    app, created = applications.submit(session, principal=principal, idempotency_key=idempotency_key,
                                       onething_id=body.onething_id, item_id=body.item_id, data=body.data,
                                       consent_id=body.consent_id, draft=body.draft,
                                       on_behalf_of=body.on_behalf_of, counter=counter, items=body.items)
    if not created:
        response.status_code = 200
    out = _application_out(session, app, with_timeline=False)
    commit_now(session)
    return out


class ApplicationSummary(BaseModel):
    """An application in a list: what a list shows. The whole application (data, tasks,
    timeline) is at `/applications/{id}` (docs/api-conventions.md: lists return summaries)."""

    id: int
    status: str
    onething_id: str | None
    item_id: str | None
    title: str  # the one-thing's or the item's, in the caller's language
    submitted_at: dt.datetime | None
    finished_at: dt.datetime | None
    filing: str = "self"  # self | proxy | guardian | counter


def _application_summary(session: Any, app: Application) -> ApplicationSummary:
    cat = catalogue.current(session)
    if app.onething_id:
        title = pick(cat.onething(app.onething_id).definition["title"])
    else:
        title = pick(cat.item(app.item_id).definition["title"]) if app.item_id else ""
    return ApplicationSummary(id=app.id, status=app.status, onething_id=app.onething_id, item_id=app.item_id,
                              title=title, submitted_at=app.submitted_at, finished_at=app.finished_at,
                              filing=app.filing)


@router.get("/me/applications", response_model=Page[ApplicationSummary])
def my_applications(session: DbSession, principal: CurrentPrincipal, limit: Limit = DEFAULT_LIMIT,
                    cursor: str | None = None) -> Page[ApplicationSummary]:
    """Your applications (for you, and those you filed for others), newest first, as summaries."""
    access.require(principal, "self.read")
    rows, next_cursor = applications.mine(session, principal=principal, limit=limit, cursor=cursor)
    return Page(items=[_application_summary(session, a) for a in rows], next_cursor=next_cursor)


@router.get("/applications/{application_id}", response_model=ApplicationOut)
def get_application(application_id: Id, session: DbSession, principal: CurrentPrincipal) -> ApplicationOut:
    """The application with its tasks and timeline: for the applicant and the departments involved."""
    app = applications.get_application(session, principal=principal, application_id=application_id)
    return _application_out(session, app, with_timeline=True)


@router.put("/applications/{application_id}", response_model=ApplicationOut)
def update_draft(application_id: Id, body: DraftIn, session: DbSession, principal: CurrentPrincipal) -> ApplicationOut:
    """Change a draft's form data (only its owner; only the fields given are checked)."""
    app = applications.update_draft(session, principal=principal, application_id=application_id, data=body.data)
    return _application_out(session, app, with_timeline=True)


@router.post("/applications/{application_id}/submit", response_model=ApplicationOut, status_code=201)
def submit_draft(application_id: Id, response: Response, session: DbSession, principal: CurrentPrincipal,
                 idempotency_key: str = Header(alias="Idempotency-Key", min_length=1, max_length=200)
                 ) -> ApplicationOut:
    """Submit a draft: the whole form and the required materials are checked, then it is routed."""
    app, created = applications.submit_draft(session, principal=principal, application_id=application_id,
                                             idempotency_key=idempotency_key)
    if not created:
        response.status_code = 200
    return _application_out(session, app, with_timeline=False)


# --- materials ----------------------------------------------------------------------------------


class MaterialOut(BaseModel):
    id: int
    material_id: str
    sha256: str | None
    size: int
    media_type: str | None
    certificate_id: int | None
    uploaded_by: str
    created_at: dt.datetime


@router.post("/applications/{application_id}/materials", response_model=MaterialOut, status_code=201)
async def add_material(application_id: Id, request: Request, session: DbSession, principal: CurrentPrincipal,
                       material_id: str = Form(...), file: UploadFile | None = File(None),
                       certificate_id: Id | None = Form(None)) -> MaterialOut:
    """Attach a material (multipart): a `file` (PDF, JPEG or PNG, checked by content) or the
    `certificate_id` of a wallet certificate accepted in its place."""
    if (file is None) == (certificate_id is None):
        raise Invalid(N_("Send a file or a certificate, one of them"), field="file")
    if certificate_id is not None:
        row = materials.attach_certificate(session, principal=principal, application_id=application_id,
                                           material_id=material_id, certificate_id=certificate_id)
    else:
        assert file is not None
        data = await file.read(materials.MAX_BYTES + 1)
        row = materials.attach_upload(session, storage=storage_for(request.app.state.settings),
                                      principal=principal, application_id=application_id, material_id=material_id,
                                      filename=file.filename, data=data)
    return MaterialOut(**materials.material_dict(row))


@router.get("/applications/{application_id}/materials", response_model=Page[MaterialOut])
def list_materials(application_id: Id, session: DbSession, principal: CurrentPrincipal) -> Page[MaterialOut]:
    """The application's materials, for its parties (staff reads are audited)."""
    rows = materials.list_materials(session, principal=principal, application_id=application_id)
    return Page(items=[MaterialOut(**materials.material_dict(r)) for r in rows])


@router.get("/applications/{application_id}/materials/{material_row_id}")
def download_material(application_id: Id, material_row_id: Id, request: Request, session: DbSession,
                      principal: CurrentPrincipal) -> Response:
    """Download an uploaded material (for the application's parties; staff reads are audited)."""
    row, data = materials.open_material(session, storage=storage_for(request.app.state.settings),
                                        principal=principal, application_id=application_id,
                                        material_row_id=material_row_id)
    ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(row.media_type or "", "bin")
    return Response(data, media_type=row.media_type or "application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="material-{row.id}.{ext}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


# --- authorisations (代办) -------------------------------------------------------------------------


class AuthorisationIn(BaseModel):
    proxy_id_number: str
    scope: str = "all"
    days: int = 90


class AuthorisationOut(BaseModel):
    id: int
    direction: str
    person_id: int
    name: str | None
    scope: str
    valid_until: dt.datetime
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    active: bool


@router.post("/me/authorisations", response_model=AuthorisationOut, status_code=201)
def authorise(body: AuthorisationIn, session: DbSession, principal: CurrentPrincipal) -> AuthorisationOut:
    """授权代办: let a family member apply for you (everything, a one-thing or an item) until a date."""
    a = proxies.authorise(session, principal=principal, proxy_id_number=body.proxy_id_number, scope=body.scope,
                          days=body.days)
    return AuthorisationOut(**proxies.authorisation_dict(session, a, "given"))


@router.get("/me/authorisations", response_model=Page[AuthorisationOut])
def my_authorisations(session: DbSession, principal: CurrentPrincipal) -> Page[AuthorisationOut]:
    """Authorisations you gave and those given to you."""
    return Page(items=[AuthorisationOut(**proxies.authorisation_dict(session, a, d))
                       for a, d in proxies.authorisations(session, principal=principal)])


@router.delete("/me/authorisations/{authorisation_id}", response_model=AuthorisationOut)
def revoke_authorisation(authorisation_id: Id, session: DbSession, principal: CurrentPrincipal) -> AuthorisationOut:
    """Withdraw an authorisation you gave, effective at once."""
    a = proxies.revoke(session, principal=principal, authorisation_id=authorisation_id)
    return AuthorisationOut(**proxies.authorisation_dict(session, a, "given"))


@router.post("/applications/{application_id}/withdraw", response_model=ApplicationOut)
def withdraw(application_id: Id, session: DbSession, principal: CurrentPrincipal) -> ApplicationOut:
    app = applications.withdraw(session, principal=principal, application_id=application_id)
    return _application_out(session, app, with_timeline=True)


class SupplementIn(BaseModel):
    data: dict[str, Any]


@router.post("/applications/{application_id}/tasks/{task_id}/supplement", response_model=TaskOut)
def supplement(application_id: Id, task_id: Id, body: SupplementIn, session: DbSession,
               principal: CurrentPrincipal) -> TaskOut:
    """补正: answer a returned task; its clock restarts."""
    task = applications.supplement(session, principal=principal, application_id=application_id, task_id=task_id,
                                   data=body.data)
    return _task_out(session, task)


# --- workbench ----------------------------------------------------------------------------------


@router.get("/workbench/tasks", response_model=Page[TaskOut])
def workbench_tasks(session: DbSession, principal: CurrentPrincipal, status: str = "ready", tab: str = "ready",
                    limit: Limit = DEFAULT_LIMIT, cursor: str | None = None) -> Page[TaskOut]:
    """Your department's queue (in your region); `ready` = waiting for a decision (of those, the
    steps you may decide), in `tab` (ready, mine, near_due, overdue) as on the workbench page."""
    page = staff_queue.queue(session, principal=principal, today=clock.today(), tab=tab, status=status,
                             limit=limit, cursor=cursor, calendar=workdays.calendar(session))
    return Page(items=[_task_out(session, t) for t, _ in page.rows], next_cursor=page.next_cursor)


class DecisionIn(BaseModel):
    decision: Literal["approve", "return", "reject"]
    reason: FreeText | None = Field(None, max_length=500)
    outputs: dict[str, Any] = {}
    version: Version


@router.post("/workbench/tasks/{task_id}/decision", response_model=TaskOut)
def decide(task_id: Id, body: DecisionIn, request: Request, session: DbSession,
           principal: CurrentPrincipal) -> TaskOut:
    """Approve (this step), return for 补正, or reject, on the version you read (409 if stale)."""
    task = applications.decide(session, principal=principal, task_id=task_id, decision=body.decision,
                               version=body.version, reason=body.reason, outputs=body.outputs,
                               keyring=keyring_for(request.app.state.settings))
    out = _task_out(session, task)
    commit_now(session)
    return out


class ObjectionIn(BaseModel):
    reason: FreeText = Field(max_length=500)
    version: Version


@router.post("/workbench/tasks/{task_id}/objection", response_model=TaskOut)
def objection(task_id: Id, body: ObjectionIn, session: DbSession, principal: CurrentPrincipal) -> TaskOut:
    """Record an objection (异议) raised during a task's 公示: it goes back to its last review step."""
    task = notice.object_to(session, principal=principal, task_id=task_id, reason=body.reason, version=body.version)
    return _task_out(session, task)


# --- certificates -------------------------------------------------------------------------------


class WalletCertificate(BaseModel):
    id: int
    public_id: str  # what its QR code and public verify links carry
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
    me = family.applicant_person(session, principal.account_id)
    holders = {me.id: "self"}
    wards = registry_reads.wards_of(session, me.id)
    holders.update({w: "ward" for w in wards})
    return holders


@router.get("/me/certificates", response_model=Page[WalletCertificate])
def my_certificates(session: DbSession, principal: CurrentPrincipal, limit: Limit = DEFAULT_LIMIT,
                    cursor: str | None = None) -> Page[WalletCertificate]:
    """你的数字证件: your certificates and your wards' (a parent sees the newborn's), oldest first."""
    access.require(principal, "self.read")
    holders = _wallet_holders(session, principal)
    held = registry_reads.certificates_held(session, holders, after=decode_cursor(cursor), limit=limit + 1)
    rows, next_cursor = page_of(held, limit, key=lambda c: c.id)
    out = []
    for c in rows:
        doc = certificates.document(c)
        out.append(WalletCertificate(id=c.id, public_id=c.public_id, type_code=c.type_code, type_name=doc["type_name"], number=c.number,
                                     issuer_name=c.issuer_name, issue_date=doc["issue_date"],
                                     valid_to=doc["valid_to"], status=c.status,
                                     holder={"relation": holders[c.holder_id], "person_id": c.holder_id,
                                             "name": doc["holder"]},
                                     data=doc["data"]))
    return Page(items=out, next_cursor=next_cursor)


@router.get("/me/certificates/{certificate_id}/document")
def certificate_document(certificate_id: Id, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """The signed document, for the holder or a guardian to keep and show (verifiable offline)."""
    return certificates.document(_held(session, principal, certificate_id))


def _held(session: Any, principal: access.Principal, certificate_id: Id) -> Certificate:
    access.require(principal, "self.read")
    cert = registry_reads.certificate(session, certificate_id)
    if cert is None or cert.holder_kind != "person" or cert.holder_id not in _wallet_holders(session, principal):
        raise access.NotYours(N_("No such certificate"), principal=principal, action="certificate.held")
    return cert


@router.get("/certificates/{certificate_id}/qr.svg")
def certificate_qr(certificate_id: Id, request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    """The certificate's QR code (for the holder or a guardian): the public verify URL with its signature."""
    cert = _held(session, principal, certificate_id)
    url = request.app.state.settings.public_base(str(request.base_url)) + certificates.verify_path(cert)
    return Response(certificates.qr_svg(url), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


class RevokeIn(BaseModel):
    reason: FreeText = Field(max_length=500)


@router.post("/certificates/{certificate_id}/revoke")
def revoke_certificate(certificate_id: Id, body: RevokeIn, request: Request, session: DbSession,
                       principal: CurrentPrincipal) -> dict[str, Any]:
    """Revoke (注销) a certificate: staff of the issuing department, with the reason."""
    certificates.revoke(session, principal=principal, certificate_id=certificate_id, reason=body.reason)
    return certificates.verify_online(session, keyring=keyring_for(request.app.state.settings),
                                      certificate_id=certificate_id, today=clock.today())


@router.get("/certificates/revocations")
def revocations(request: Request, session: DbSession) -> dict[str, Any]:
    """The public list of revoked certificates, signed with the certificate key, for offline verifiers."""
    return certificates.revocation_list(session, keyring=keyring_for(request.app.state.settings))


@router.get("/certificates/public/{public_id}/verify")
def verify_public(public_id: str, request: Request, session: DbSession) -> dict[str, Any]:
    """Anyone may check a certificate by its public id (the one in its QR code): signature,
    revocation, expiry, type, number and issuer (no personal data returned)."""
    cert = certificates.by_public_ref(session, public_id) if not public_id.isdigit() else None
    if cert is None:
        raise NotFound(N_("No such certificate"))
    return {**certificates.verify_online(session, keyring=keyring_for(request.app.state.settings),
                                         certificate_id=cert.id, today=clock.today()), "public_id": cert.public_id}


@router.get("/certificates/{certificate_id}/verify")
def verify(certificate_id: Id, request: Request, session: DbSession, sig: str | None = None) -> dict[str, Any]:
    """Check a certificate by its sequential id (kept for old clients): only `valid`,
    `signature_valid` and `status`, unless `sig` is the certificate's own signature as on its
    QR code — ids can be walked. Use `/certificates/public/{public_id}/verify`."""
    return certificates.verify_by_number(session, keyring=keyring_for(request.app.state.settings),
                                         certificate_id=certificate_id, sig=sig, today=clock.today())
