"""Case engine API (/api/v1/cases…): file, follow, dispatch, handle, answer, close, rate, 督办, 并单."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tongban.cases import engine, reads
from tongban.cases.models import Case
from tongban.core import access, clock, workdays
from tongban.core.i18n import pick
from tongban.core.ids import Id, Version
from tongban.core.paging import DEFAULT_LIMIT, Limit
from tongban.core.storage import storage_for
from tongban.core.text import FreeText
from tongban.registry.schemas import PersonOut
from tongban.webkit.deps import CurrentPrincipal, DbSession, needs
from tongban.webkit.schemas import Page, refusals

router = APIRouter(tags=["cases"])


class CategoryOut(BaseModel):
    id: str
    kind: str
    type: str
    title: str
    description: str
    keywords: list[str]


def category_out(c: Any) -> CategoryOut:
    d = c.definition
    return CategoryOut(id=c.id, kind=c.kind, type=c.default_type, title=pick(d["title"]),
                       description=pick(d["description"]), keywords=list(d.get("keywords", [])))


class CaseIn(BaseModel):
    description: FreeText = Field(max_length=2000)
    category_id: str = Field(max_length=64)
    type: Literal["consult", "help", "complaint", "report", "suggestion"] | None = None
    region_code: str | None = Field(None, max_length=12)
    address: FreeText | None = Field(None, max_length=300)
    longitude: float | None = None
    latitude: float | None = None
    datum: Literal["WGS84", "GCJ02", "BD09", "CGCS2000"] | None = None
    reporter_name: str | None = Field(None, max_length=64, description="The caller's name (hotline only).")
    reporter_phone: str | None = Field(None, max_length=20, description="The caller's phone (hotline only).")
    anonymous: bool = Field(False, description="Stay anonymous to the department.")
    caller_person_id: int | None = Field(None, description=(
        "Hotline only: the registered resident found by `POST /cases/callers` the case is attached to "
        "(linked to their account when they have one)."))


class CaseSummary(BaseModel):
    id: int
    kind: str
    type: str
    category_id: str
    status: str
    region_code: str
    department_id: str | None
    due_date: dt.date
    overdue: bool
    supervisions: int
    created_at: dt.datetime


class EventOut(BaseModel):
    at: dt.datetime
    kind: str
    actor: str
    department_id: str | None
    details: dict[str, Any]


class AttachmentOut(BaseModel):
    id: int
    media_type: str
    size: int


class CaseOut(CaseSummary):
    public_id: str
    description: str
    address: str | None
    longitude: float | None
    latitude: float | None
    datum: str | None
    channel: str
    anonymous: bool
    reporter: dict[str, Any]
    assist_department_ids: list[str]
    clock: dict[str, Any]
    reply: str | None
    replied_at: dt.datetime | None
    closed_at: dt.datetime | None
    merged_into_id: int | None
    rating: int | None
    visited_at: dt.datetime | None
    version: int
    timeline: list[EventOut]
    attachments: list[AttachmentOut]


def summary(c: Case, today: dt.date) -> CaseSummary:
    return CaseSummary(id=c.id, kind=c.kind, type=c.type, category_id=c.category_id, status=c.status,
                       region_code=c.region_code, department_id=c.department_id, due_date=c.due_date,
                       overdue=c.status in engine.OPEN and today > c.due_date, supervisions=c.supervisions,
                       created_at=c.created_at)


def case_out(session: Session, c: Case, principal: access.Principal) -> CaseOut:
    today = clock.today()
    base = summary(c, today).model_dump()
    return CaseOut(**base, public_id=c.public_id, description=c.description, address=c.address,
                   longitude=c.longitude, latitude=c.latitude, datum=c.datum, channel=c.channel,
                   anonymous=c.anonymous, reporter=engine.reporter_for(session, c, principal),
                   assist_department_ids=list(c.assist_department_ids),
                   clock=engine.clock_of(c, today, workdays.calendar(session)), reply=c.reply,
                   replied_at=c.replied_at, closed_at=c.closed_at, merged_into_id=c.merged_into_id,
                   rating=reads.rating_of(session, c), visited_at=c.visited_at, version=c.version,
                   timeline=[EventOut(at=e.at, kind=e.kind, actor=e.actor, department_id=e.department_id,
                                      details=e.details) for e in engine.timeline(session, c)],
                   attachments=[AttachmentOut(id=a.id, media_type=a.media_type, size=a.size)
                                for a in engine.attachments(session, c)])


def channel_of(principal: access.Principal) -> str:
    if principal.kind == "resident":
        return "portal"
    if principal.has(engine.OPERATE):
        return "hotline"
    return "grid"


@router.get("/case-categories", response_model=Page[CategoryOut])
def list_categories(session: DbSession, principal: CurrentPrincipal,
                    kind: Literal["hotline", "grid"] | None = None) -> Page[CategoryOut]:
    access.require_login(principal)
    return Page(items=[category_out(c) for c in engine.categories(session, kind)])


class SuggestIn(BaseModel):
    description: FreeText = Field(max_length=2000)
    kind: Literal["hotline", "grid"] = "hotline"


class SuggestOut(BaseModel):
    emergency: dict[str, Any] | None
    categories: list[dict[str, Any]]


@router.post("/cases/suggest", response_model=SuggestOut)
def suggest(body: SuggestIn, session: DbSession, principal: CurrentPrincipal) -> SuggestOut:
    """Category suggestion by the pack's keywords, with the words matched; and whether the text
    reads as an emergency (110/119/120/122). The operator decides."""
    access.require_login(principal)
    return SuggestOut(emergency=engine.emergency_in(session, body.description),
                      categories=[{"category": category_out(s.category).model_dump(), "matched": s.matched}
                                  for s in engine.suggest_categories(session, body.description, kind=body.kind)])


class CallerSearch(BaseModel):
    query: str = Field(min_length=1, max_length=64,
                       description="The caller's phone number, resident ID number, or name.")
    birth_date: dt.date | None = Field(None, description="With a name: the caller's birth date.")


@router.post("/cases/callers", response_model=Page[PersonOut], dependencies=[needs(engine.OPERATE)])
def find_callers(body: CallerSearch, session: DbSession, principal: CurrentPrincipal) -> Page[PersonOut]:
    """12345 找人: the registered residents in your region matching the caller's phone, ID number,
    or name with birth date — the data hub's staff search, masked and audited (`person.search`).
    The criteria travel in the body, never in the URL."""
    rows = engine.find_callers(session, principal=principal, query=body.query, birth_date=body.birth_date)
    return Page(items=[PersonOut(**r) for r in rows])


@router.post("/cases", response_model=CaseOut, status_code=201,
             dependencies=[needs("self.apply", engine.OPERATE, "grid.visit")], responses=refusals({
                 422: "A description that is blank once trimmed or reads as an emergency; a `category_id`, "
                      "`type` or `region_code` that names nothing usable by the caller; coordinates outside "
                      "China, one without the other or without a `datum`; neither an address nor coordinates; "
                      "a `reporter_phone` that is not digits"}))
def file_case(body: CaseIn, session: DbSession, principal: CurrentPrincipal) -> CaseOut:
    """受理: a resident files for themselves (portal), an operator for a caller (hotline), a grid
    worker a grid event (grid). Refused with the number to call when it reads as an emergency."""
    case = engine.file_case(session, principal=principal, channel=channel_of(principal),
                            filing=engine.Filing(**body.model_dump()))
    return case_out(session, case, principal)


Tab = Literal["open", "intake", "overdue", "answered", "closed"]  # engine.TABS


@router.get("/cases/mine", response_model=Page[CaseSummary])
def my_cases(session: DbSession, principal: CurrentPrincipal, limit: Limit = DEFAULT_LIMIT,
             cursor: str | None = None) -> Page[CaseSummary]:
    page = engine.my_cases(session, principal=principal, limit=limit, cursor=cursor)
    today = clock.today()
    return Page(items=[summary(c, today) for c in page.rows], next_cursor=page.next_cursor)


@router.get("/cases", response_model=Page[CaseSummary])
def case_queue(session: DbSession, principal: CurrentPrincipal, tab: Tab = "open", limit: Limit = DEFAULT_LIMIT,
               cursor: str | None = None) -> Page[CaseSummary]:
    """Staff's queue: the operator's region, or the department's cases in its region."""
    page = engine.queue(session, principal=principal, tab=tab, limit=limit, cursor=cursor)
    today = clock.today()
    return Page(items=[summary(c, today) for c in page.rows], next_cursor=page.next_cursor)


@router.get("/cases/{case_id:int}", response_model=CaseOut)
def get_case(case_id: Id, session: DbSession, principal: CurrentPrincipal) -> CaseOut:
    return case_out(session, engine.get_case(session, principal=principal, case_id=case_id), principal)


class DuplicateOut(BaseModel):
    case: CaseSummary
    distance_m: float | None


@router.get("/cases/{case_id}/duplicates", response_model=Page[DuplicateOut])
def duplicates(case_id: Id, session: DbSession, principal: CurrentPrincipal) -> Page[DuplicateOut]:
    today = clock.today()
    return Page(items=[DuplicateOut(case=summary(c, today), distance_m=d)
                       for c, d in engine.duplicates(session, principal=principal, case_id=case_id)])


class DispatchIn(BaseModel):
    department_id: str = Field(max_length=64)
    assist: list[str] = Field(default_factory=list, max_length=5)
    reason: FreeText | None = Field(None, max_length=500)
    version: Version | None = None


class ReasonIn(BaseModel):
    reason: FreeText = Field(max_length=500)
    version: Version | None = None


class ReplyIn(BaseModel):
    text: FreeText = Field(max_length=2000)
    version: Version | None = None


class VersionIn(BaseModel):
    version: Version | None = None


class RatingIn(BaseModel):
    rating: int = Field(ge=1, le=5)


class VisitIn(BaseModel):
    rating: int | None = Field(None, ge=1, le=5)
    note: FreeText | None = Field(None, max_length=500)


class NoteIn(BaseModel):
    note: FreeText | None = Field(None, max_length=500)


class MergeIn(BaseModel):
    into_id: Id


@router.post("/cases/{case_id}/dispatch", response_model=CaseOut, dependencies=[needs(engine.OPERATE)],
             responses=refusals({422: "A department (or an assisting one) that does not exist; sending it "
                                      "elsewhere without a reason"}))
def dispatch(case_id: Id, body: DispatchIn, session: DbSession, principal: CurrentPrincipal) -> CaseOut:
    """派单 or 改派 (a reason is needed to send it elsewhere)."""
    case = engine.dispatch(session, principal=principal, case_id=case_id, department_id=body.department_id,
                           assist=body.assist, reason=body.reason, version=body.version)
    return case_out(session, case, principal)


@router.post("/cases/{case_id}/accept", response_model=CaseOut, dependencies=[needs(engine.HANDLE)])
def accept(case_id: Id, body: VersionIn, session: DbSession, principal: CurrentPrincipal) -> CaseOut:
    """签收."""
    return case_out(session, engine.accept(session, principal=principal, case_id=case_id, version=body.version),
                    principal)


@router.post("/cases/{case_id}/return", response_model=CaseOut, dependencies=[needs(engine.HANDLE)],
             responses=refusals({422: "A reason that is blank once trimmed"}))
def return_case(case_id: Id, body: ReasonIn, session: DbSession, principal: CurrentPrincipal) -> CaseOut:
    """退单 with a reason: back to the 12345 operator."""
    case = engine.return_case(session, principal=principal, case_id=case_id, reason=body.reason, version=body.version)
    return case_out(session, case, principal)


@router.post("/cases/{case_id}/reply", response_model=CaseOut, dependencies=[needs(engine.HANDLE, engine.OPERATE)],
             responses=refusals({422: "An answer that is blank once trimmed"}))
def reply(case_id: Id, body: ReplyIn, session: DbSession, principal: CurrentPrincipal) -> CaseOut:
    """答复 (to every reporter of the cases merged into it, too)."""
    case = engine.reply(session, principal=principal, case_id=case_id, text=body.text, version=body.version)
    return case_out(session, case, principal)


@router.post("/cases/{case_id}/close", response_model=CaseOut, dependencies=[needs(engine.OPERATE)])
def close(case_id: Id, body: VersionIn, session: DbSession, principal: CurrentPrincipal) -> CaseOut:
    """办结."""
    return case_out(session, engine.close(session, principal=principal, case_id=case_id, version=body.version),
                    principal)


@router.post("/cases/{case_id}/visit", response_model=CaseOut, dependencies=[needs(engine.OPERATE)])
def visit(case_id: Id, body: VisitIn, session: DbSession, principal: CurrentPrincipal) -> CaseOut:
    """回访, with the satisfaction heard."""
    case = engine.visit(session, principal=principal, case_id=case_id, rating=body.rating, note=body.note)
    return case_out(session, case, principal)


@router.post("/cases/{case_id}/rate", response_model=CaseOut)
def rate(case_id: Id, body: RatingIn, session: DbSession, principal: CurrentPrincipal) -> CaseOut:
    """评价 by the reporter, once the case is closed."""
    return case_out(session, engine.rate(session, principal=principal, case_id=case_id, rating=body.rating),
                    principal)


@router.post("/cases/{case_id}/supervise", response_model=CaseOut,
             dependencies=[needs(engine.OPERATE, "cockpit.view")])
def supervise(case_id: Id, body: NoteIn, session: DbSession, principal: CurrentPrincipal) -> CaseOut:
    """督办 by hand."""
    return case_out(session, engine.supervise(session, principal=principal, case_id=case_id, note=body.note),
                    principal)


@router.post("/cases/{case_id}/merge", response_model=CaseOut, dependencies=[needs(engine.OPERATE)])
def merge(case_id: Id, body: MergeIn, session: DbSession, principal: CurrentPrincipal) -> CaseOut:
    """并单: this case is a repeat of `into_id`."""
    return case_out(session, engine.merge(session, principal=principal, case_id=case_id, into_id=body.into_id),
                    principal)


@router.post("/cases/{case_id}/attachments", response_model=AttachmentOut, status_code=201,
             responses=refusals({422: "A file that is empty, too large, not a JPEG or PNG photo or a PDF "
                                      "document, or one more than a case may have"}))
async def attach(case_id: Id, request: Request, session: DbSession, principal: CurrentPrincipal,
                 file: UploadFile = File(...)) -> AttachmentOut:
    from fastapi.concurrency import run_in_threadpool

    data = await file.read(engine.MAX_ATTACHMENT + 1)
    row = await run_in_threadpool(engine.add_attachment, session, storage=storage_for(request.app.state.settings),
                                  principal=principal, case_id=case_id, data=data)
    return AttachmentOut(id=row.id, media_type=row.media_type, size=row.size)


@router.get("/cases/{case_id}/attachments/{attachment_id}")
def attachment(case_id: Id, attachment_id: Id, request: Request, session: DbSession,
               principal: CurrentPrincipal) -> Response:
    row, data = engine.open_attachment(session, storage=storage_for(request.app.state.settings),
                                       principal=principal, case_id=case_id, attachment_id=attachment_id)
    return Response(data, media_type=row.media_type, headers={"Cache-Control": "private, no-store"})
