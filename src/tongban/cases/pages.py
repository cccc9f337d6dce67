"""Case engine pages: 我要说 on the portal (file with a photo and a location, follow, rate); the
workbench's case queue (the operator's region, a department's cases), the operator's call
intake with category suggestion and duplicates, the grid worker's event report, and each case's
page with the steps the caller may take."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from tongban.cases import engine, reads
from tongban.cases.models import Case
from tongban.core import access, clock, workdays
from tongban.core.errors import Conflict, Invalid
from tongban.core.i18n import N_, gettext, pick
from tongban.core.identity.models import Department, Region
from tongban.core.ids import Id
from tongban.core.storage import storage_for
from tongban.webkit.deps import DbSession, SignedIn
from tongban.webkit.forms import PostedForm, form_text
from tongban.webkit.templating import render

router = APIRouter(include_in_schema=False)

TAB_LABELS = (("intake", N_("To dispatch")), ("open", N_("Open")), ("overdue", N_("Overdue")),
              ("answered", N_("Answered")), ("closed", N_("Closed")))
EVENT_LABELS = {"received": N_("Received (受理)"), "dispatched": N_("Dispatched (派单)"),
                "redispatched": N_("Sent to another department (改派)"), "accepted": N_("Taken on (签收)"),
                "returned": N_("Returned to the hotline (退单)"), "replied": N_("Answered (答复)"),
                "closed": N_("Closed (办结)"), "visited": N_("Return visit (回访)"), "rated": N_("Rated (评价)"),
                "supervised": N_("Supervised (督办)"), "merged": N_("Merged into another case (并单)"),
                "merged_in": N_("A repeat was merged in (并单)"), "attached": N_("File added")}
RATINGS = ((5, N_("Very satisfied")), (4, N_("Satisfied")), (3, N_("Neutral")), (2, N_("Dissatisfied")),
           (1, N_("Very dissatisfied")))








def _float(form: FormData, name: str) -> float | None:
    value = form_text(form, name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise Invalid(N_("Enter a number"), field=name) from None


def _files(form: FormData) -> list[tuple[str | None, bytes]]:
    out = []
    for f in form.getlist("photo"):
        if isinstance(f, UploadFile):
            data = f.file.read(engine.MAX_ATTACHMENT + 1)
            if data:
                out.append((f.filename, data))
    return out


def _regions(session: Session, principal: access.Principal) -> list[Region]:
    """The streets and communities a case may be placed in: those of the caller's county."""
    county = (principal.region_code or "")[:6]
    if not county:
        return []
    return list(session.scalars(select(Region).where(Region.code.startswith(county, autoescape=True),
                                                     Region.level.in_(("street", "community")))
                                .order_by(Region.code)))


def _categories(session: Session, kind: str) -> list[dict[str, Any]]:
    return [{"id": c.id, "title": pick(c.definition["title"]), "description": pick(c.definition["description"]),
             "type": c.default_type} for c in engine.categories(session, kind)]


def _form_context(session: Session, principal: access.Principal, kind: str, values: dict[str, Any],
                  errors: dict[str, str], emergency: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"categories": _categories(session, kind), "regions": _regions(session, principal),
            "types": [(t, engine.TYPE_LABELS[t]) for t in engine.TYPES], "values": values, "errors": errors,
            "datums": engine.DATUMS, "emergency": emergency, "kind": kind}


def _filing(form: FormData, principal: access.Principal, channel: str) -> engine.Filing:
    return engine.Filing(
        description=form_text(form, "description") or "", category_id=form_text(form, "category_id") or "",
        type=form_text(form, "type"), region_code=form_text(form, "region_code") or principal.region_code,
        address=form_text(form, "address"), longitude=_float(form, "longitude"), latitude=_float(form, "latitude"),
        datum=form_text(form, "datum"), reporter_name=form_text(form, "reporter_name") if channel == "hotline" else None,
        reporter_phone=form_text(form, "reporter_phone") if channel == "hotline" else None,
        anonymous=form.get("anonymous") == "1", files=_files(form),
        caller_person_id=_caller(form) if channel == "hotline" else None)


def _caller(form: FormData) -> int | None:
    value = form_text(form, "caller_person_id")
    if value is None:
        return None
    if not value.isdigit():
        raise Invalid(N_("Choose the caller from the residents found"), field="caller_person_id")
    return int(value)


def _file(request: Request, session: DbSession, principal: access.Principal, form: FormData, channel: str,
          template: str, done: str) -> Response:
    kind = "grid" if channel == "grid" else "hotline"
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        case = engine.file_case(session, principal=principal, channel=channel, filing=_filing(form, principal, channel),
                                storage=storage_for(request.app.state.settings))
    except engine.EmergencyRefused as exc:
        session.rollback()
        return render(request, template, _form_context(session, principal, kind, values, {"description": exc.translated()},
                                                        emergency=exc.params), status_code=422)
    except (Invalid, access.Denied) as exc:
        session.rollback()
        return render(request, template, _form_context(session, principal, kind, values,
                                                        {exc.field or "_form": exc.translated()}), status_code=422)
    return RedirectResponse(done.format(id=case.id), status_code=303)


# --- 我要说 (portal) ------------------------------------------------------------------------------


@router.get("/portal/cases")
def my_cases(request: Request, session: DbSession, principal: SignedIn, cursor: str | None = None) -> Response:
    """我要说: the resident's cases, newest first, and the way to file one."""
    access.require(principal, "self.apply")
    page = engine.my_cases(session, principal=principal, cursor=cursor)
    return render(request, "cases/mine.html", {"cases": _rows(session, page.rows), "next_cursor": page.next_cursor})


@router.get("/portal/cases/new")
def new_case(request: Request, session: DbSession, principal: SignedIn) -> Response:
    access.require(principal, "self.apply")
    return render(request, "cases/file.html", _form_context(session, principal, "hotline",
                                                            {"region_code": principal.region_code}, {}))


@router.post("/portal/cases")
def file_case(request: Request, session: DbSession, principal: SignedIn, form: PostedForm) -> Response:
    access.require(principal, "self.apply")
    return _file(request, session, principal, form, "portal", "cases/file.html", "/portal/cases/{id}")


@router.get("/portal/cases/{case_id}")
def my_case(request: Request, session: DbSession, principal: SignedIn, case_id: Id) -> Response:
    """The resident's case: where it stands, its steps, the answer, and the way to rate it once closed (好差评)."""
    case = engine.get_case(session, principal=principal, case_id=case_id)
    if case.reporter_account_id != principal.account_id:
        raise access.NotYours(N_("No such case"), principal=principal, action="case.read")
    return render(request, "cases/mine_one.html", _detail(session, case, principal))


# --- shared views ---------------------------------------------------------------------------------


def _rows(session: Session, cases: list[Case]) -> list[dict[str, Any]]:
    today = clock.today()
    cats = {c.id: c for c in engine.categories(session)}
    depts = engine.department_names(session, [c.department_id for c in cases])
    return [{"case": c, "category": pick(cats[c.category_id].definition["title"]) if c.category_id in cats else c.category_id,
             "type": gettext(engine.TYPE_LABELS[c.type]), "status": gettext(engine.STATUS_LABELS[c.status]),
             "department": _dept_name(depts.get(c.department_id or "")),
             "overdue": c.status in engine.OPEN and today > c.due_date} for c in cases]


def _dept_name(d: Department | None) -> str:
    return pick({"zh": d.name_zh, "en": d.name_en}) if d is not None else "—"


def _detail(session: Session, case: Case, principal: access.Principal) -> dict[str, Any]:
    events = engine.timeline(session, case)
    depts = engine.department_names(session, [case.department_id, *[e.department_id for e in events],
                                              *case.assist_department_ids])
    calendar = workdays.calendar(session)
    return {
        "row": _rows(session, [case])[0], "case": case, "reporter": engine.reporter_for(session, case, principal),
        "clock": engine.clock_of(case, clock.today(), calendar),
        "assist": [_dept_name(depts.get(d)) for d in case.assist_department_ids],
        "events": [{"at": e.at, "label": gettext(EVENT_LABELS.get(e.kind, e.kind)),
                    "department": _dept_name(depts.get(e.department_id or "")) if e.department_id else None,
                    "reason": e.details.get("reason"), "note": e.details.get("note"),
                    "rating": e.details.get("rating")} for e in events],
        "attachments": engine.attachments(session, case), "ratings": RATINGS,
        "rating": reads.rating_of(session, case),
    }


@router.get("/case-files/{case_id}/{attachment_id}")
def attachment(request: Request, session: DbSession, principal: SignedIn, case_id: Id, attachment_id: Id) -> Response:
    row, data = engine.open_attachment(session, storage=storage_for(request.app.state.settings), principal=principal,
                                       case_id=case_id, attachment_id=attachment_id)
    return Response(data, media_type=row.media_type, headers={"Cache-Control": "private, no-store"})


# --- workbench --------------------------------------------------------------------------------------


def _staff_case_role(principal: access.Principal) -> str:
    if principal.has(engine.OPERATE):
        return "operator"
    if principal.has(engine.HANDLE) or principal.has("task.reassign"):
        return "department"
    return "grid"


@router.get("/workbench/cases")
def queue(request: Request, session: DbSession, principal: SignedIn, tab: str | None = None,
          cursor: str | None = None) -> Response:
    """The case queue: the operator's region (to dispatch first), or the department's cases in its
    region with their clocks; a grid worker's own reports."""
    role = _staff_case_role(principal)
    if role == "grid":
        access.require(principal, "grid.visit")
        page = engine.my_cases(session, principal=principal, cursor=cursor)
        return render(request, "cases/queue.html", {"role": role, "rows": _rows(session, page.rows),
                                                     "next_cursor": page.next_cursor, "tabs": (), "tab": None})
    tab = tab or ("intake" if role == "operator" else "open")
    page = engine.queue(session, principal=principal, tab=tab, cursor=cursor)
    labels = [(k, v) for k, v in TAB_LABELS if role == "operator" or k != "intake"]
    return render(request, "cases/queue.html", {
        "role": role, "rows": _rows(session, page.rows), "next_cursor": page.next_cursor, "tab": tab,
        "tabs": labels, "counts": engine.tab_counts(session, principal=principal)})


@router.get("/workbench/cases/new")
def intake(request: Request, session: DbSession, principal: SignedIn) -> Response:
    """The operator's quick entry of a call, or the grid worker's event report (phone-sized)."""
    access.require_any(principal, engine.OPERATE, "grid.visit")
    kind = "hotline" if principal.has(engine.OPERATE) else "grid"
    return render(request, "cases/intake.html", _form_context(session, principal, kind,
                                                              {"region_code": principal.region_code}, {}))


@router.post("/workbench/cases/new")
def intake_post(request: Request, session: DbSession, principal: SignedIn, form: PostedForm) -> Response:
    access.require_any(principal, engine.OPERATE, "grid.visit")
    channel = "hotline" if principal.has(engine.OPERATE) else "grid"
    return _file(request, session, principal, form, channel, "cases/intake.html", "/workbench/cases/{id}")


@router.post("/workbench/cases/suggest")
@router.post("/portal/cases/suggest")
def suggest(request: Request, session: DbSession, principal: SignedIn, form: PostedForm) -> Response:
    """The category suggestion (htmx): the pack's keywords found in the description, or the
    emergency number when it reads as one."""
    access.require_any(principal, engine.OPERATE, "grid.visit", "self.apply")
    text = form_text(form, "description") or ""
    kind = "grid" if _staff_case_role(principal) == "grid" and principal.kind == "staff" else "hotline"
    return render(request, "cases/_suggest.html", {
        "emergency": engine.emergency_in(session, text),
        "suggestions": [{"id": s.category.id, "title": pick(s.category.definition["title"]), "matched": s.matched}
                        for s in engine.suggest_categories(session, text, kind=kind)]})


@router.post("/workbench/cases/callers")
def callers(request: Request, session: DbSession, principal: SignedIn, form: PostedForm) -> Response:
    """找人 (htmx): the registered residents matching the caller's phone, ID number or name with
    birth date, masked, through the data hub (audited); the operator picks one or goes on with
    the caller as typed."""
    access.require(principal, engine.OPERATE)
    query = form_text(form, "caller_query") or ""
    try:
        raw_date = form_text(form, "caller_birth_date")
        try:
            birth_date = dt.date.fromisoformat(raw_date) if raw_date else None
        except ValueError:
            raise Invalid(N_("Enter a date as YYYY-MM-DD"), field="caller_birth_date") from None
        found = engine.find_callers(session, principal=principal, query=query, birth_date=birth_date)
    except (Invalid, access.Denied) as exc:
        session.rollback()
        return render(request, "cases/_callers.html", {"error": exc.translated(), "people": None})
    regions = {r.code: r for r in session.scalars(select(Region).where(
        Region.code.in_({p["region_code"] for p in found if p.get("region_code")})))}
    return render(request, "cases/_callers.html", {
        "error": None, "people": [{**p, "region": pick({"zh": regions[p["region_code"]].name_zh,
                                                                    "en": regions[p["region_code"]].name_en})
                                   if p.get("region_code") in regions else ""} for p in found]})


@router.get("/workbench/cases/{case_id}")
def case_page(request: Request, session: DbSession, principal: SignedIn, case_id: Id) -> Response:
    case = engine.get_case(session, principal=principal, case_id=case_id)
    return _case_page(request, session, principal, case, None)


def _case_page(request: Request, session: Session, principal: access.Principal, case: Case,
               error: str | None, status_code: int = 200) -> Response:
    role = _staff_case_role(principal)
    context = _detail(session, case, principal)
    dups: list[dict[str, Any]] = []
    if role == "operator" and case.status in engine.OPEN:
        found = engine.duplicates(session, principal=principal, case_id=case.id)
        dups = [{"row": r, "distance": d} for r, (_, d) in zip(_rows(session, [c for c, _ in found]), found, strict=True)]
    departments = [{"id": d.id, "name": _dept_name(d)} for d in session.scalars(
        select(Department).order_by(Department.id))] if role == "operator" else []
    handler = principal.department_id == case.department_id
    return render(request, "cases/case.html", {**context, "role": role, "duplicates": dups, "departments": departments,
                                               "handler": handler, "error": error}, status_code=status_code)


@router.post("/workbench/cases/{case_id}/{action}")
def act(request: Request, session: DbSession, principal: SignedIn, case_id: Id, action: str,
        form: PostedForm) -> Response:
    """One step on a case: accept (签收), return (退单), reply (答复), dispatch (派单/改派), close (办结),
    visit (回访), supervise (督办), merge (并单)."""
    version_text = form_text(form, "version")
    version = int(version_text) if version_text and version_text.isdigit() else None
    try:
        if action == "accept":
            engine.accept(session, principal=principal, case_id=case_id, version=version)
        elif action == "return":
            engine.return_case(session, principal=principal, case_id=case_id, reason=form_text(form, "reason") or "",
                               version=version)
        elif action == "reply":
            engine.reply(session, principal=principal, case_id=case_id, text=form_text(form, "text") or "", version=version)
        elif action == "dispatch":
            engine.dispatch(session, principal=principal, case_id=case_id,
                            department_id=form_text(form, "department_id") or "", reason=form_text(form, "reason"),
                            version=version)
        elif action == "close":
            engine.close(session, principal=principal, case_id=case_id, version=version)
        elif action == "visit":
            rating = form_text(form, "rating")
            engine.visit(session, principal=principal, case_id=case_id,
                         rating=int(rating) if rating and rating.isdigit() else None, note=form_text(form, "note"))
        elif action == "supervise":
            engine.supervise(session, principal=principal, case_id=case_id, note=form_text(form, "note"))
        elif action == "merge":
            into = form_text(form, "into_id")
            if not into or not into.isdigit():
                raise Invalid(N_("Choose the case to merge into"), field="into_id")
            engine.merge(session, principal=principal, case_id=case_id, into_id=int(into))
        else:
            raise Invalid(N_("Unknown action"), field="action")
    except (Invalid, Conflict) as exc:
        session.rollback()
        case = engine.get_case(session, principal=principal, case_id=case_id)
        return _case_page(request, session, principal, case, exc.translated(), status_code=422)
    return RedirectResponse(f"/workbench/cases/{case_id}", status_code=303)
