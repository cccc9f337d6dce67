"""The case engine: filing (受理), dispatch (派单, 改派), 签收, 退单, 答复, 办结, 回访, 评价,
督办 and 并单, for 12345 诉求 and grid events alike.

Every step is a plain function taking the session and the caller (`principal`), checking the
caller's right through `core.access`, writing one timeline event and one audit record, and never
committing: the request or the command owns the transaction. Who may see a case, and whether the
reporter is shown, is decided here once (`can_read`, `reporter_for`).
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy import case as when
from sqlalchemy.orm import Session

from tongban.cases import reads
from tongban.cases.models import Case, CaseAttachment, CaseCategory, CaseDispatchRule, CaseEvent, CaseSetting
from tongban.core import access, clock, masking, paging, slices, workdays
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_
from tongban.core.identity.models import Account, Department, Region
from tongban.core.storage import Storage
from tongban.core.text import free_text, person_name
from tongban.datahub import persons
from tongban.registry import service as registry

TYPES = ("consult", "help", "complaint", "report", "suggestion")
TYPE_LABELS = {"consult": N_("Enquiry (咨询)"), "help": N_("Request for help (求助)"),
               "complaint": N_("Complaint (投诉)"), "report": N_("Report of wrongdoing (举报)"),
               "suggestion": N_("Suggestion (意见建议)"), "grid": N_("Grid event (网格事件)"),
               "supervision": N_("Supervision from the cockpit (督办事项)")}
STATUS_LABELS = {"received": N_("Received (受理)"), "dispatched": N_("Dispatched (派单)"),
                 "accepted": N_("In hand (办理中)"), "returned": N_("Returned (退单)"),
                 "replied": N_("Answered (答复)"), "closed": N_("Closed (办结)"), "merged": N_("Merged (并单)")}
CHANNELS = ("portal", "hotline", "grid", "api", "cockpit")
DATUMS = ("WGS84", "GCJ02", "BD09", "CGCS2000")
OPEN = ("received", "dispatched", "accepted", "returned")
DEPARTMENT_OPEN = ("dispatched", "accepted")
HANDLE = "task.decide"  # a department's officers handle its cases as they decide its tasks
OPERATE = "hotline.handle"
IMAGE_KINDS = {"jpg": ("image/jpeg", b"\xff\xd8\xff"), "png": ("image/png", b"\x89PNG\r\n\x1a\n"),
               "pdf": ("application/pdf", b"%PDF-")}
MAX_ATTACHMENT = 10 * 1024 * 1024
MAX_ATTACHMENTS = 5


class EmergencyRefused(Invalid):
    """An emergency is not a 12345 case: the caller is told the number to call."""

    type_ = "emergency"
    title = N_("This is an emergency")


# Working days by type when the pack says nothing (a pack loaded before 督办事项 has no `supervision`).
TIME_LIMITS = {"consult": 2, "help": 10, "complaint": 15, "report": 15, "suggestion": 10, "grid": 5, "supervision": 10}


# --- the pack's settings --------------------------------------------------------------------------


def setting(session: Session, key: str) -> Any:
    row = session.get(CaseSetting, key)
    defaults: dict[str, Any] = {
        "time_limits": dict(TIME_LIMITS),
        "merge": {"distance_m": 200, "window_hours": 72}, "emergencies": [], "open311": {"jurisdiction": None}}
    return row.value if row is not None else defaults[key]


def categories(session: Session, kind: str | None = None) -> list[CaseCategory]:
    q = select(CaseCategory).order_by(CaseCategory.id)
    if kind is not None:
        q = q.where(CaseCategory.kind == kind)
    return list(session.scalars(q))


def category(session: Session, category_id: str) -> CaseCategory:
    found = session.get(CaseCategory, category_id)
    if found is None:
        raise Invalid(N_("No such category"), field="category_id")
    return found


def emergency_in(session: Session, text: str) -> dict[str, Any] | None:
    """The emergency (its number and name) whose keyword `text` holds, or None."""
    lowered = text.lower()
    for e in setting(session, "emergencies"):
        if any(k.lower() in lowered for k in e["keywords"]):
            return dict(e)
    return None


@dataclass
class Suggestion:
    category: CaseCategory
    matched: list[str]


def suggest_categories(session: Session, text: str, *, kind: str = "hotline", limit: int = 3) -> list[Suggestion]:
    """Categories whose declared keywords `text` holds, most words first, with the words matched.
    The operator decides; this only saves looking."""
    lowered = text.lower()
    found = []
    for c in categories(session, kind):
        matched = [k for k in c.definition.get("keywords", []) if k.lower() in lowered]
        if matched:
            found.append(Suggestion(c, matched))
    found.sort(key=lambda s: (-len(s.matched), s.category.id))
    return found[:limit]


def route(session: Session, category_id: str, region_code: str) -> CaseDispatchRule | None:
    """The 派单目录's rule for a category in a region: the most specific region that holds it."""
    rules = session.scalars(select(CaseDispatchRule).where(CaseDispatchRule.category_id == category_id)).all()
    fitting = [r for r in rules if access.in_subtree(region_code, r.region_code)]
    return max(fitting, key=lambda r: len(access.region_prefix(r.region_code)), default=None)


def time_limit(session: Session, case_type: str, cat: CaseCategory) -> int:
    """Working days a case has: a grid or supervision category's own, else its type's (pack `time_limits`)."""
    days = cat.definition.get("days") if cat.kind in ("grid", "cockpit") else None
    return int(days or setting(session, "time_limits").get(case_type, TIME_LIMITS[case_type]))


# --- reading --------------------------------------------------------------------------------------


def _is_reporter(principal: access.Principal, case: Case) -> bool:
    return principal.account_id is not None and principal.account_id == case.reporter_account_id


def _is_operator(principal: access.Principal, case: Case) -> bool:
    return access.can_operate_case(principal, case.region_code)


def _is_handler(principal: access.Principal, case: Case) -> bool:
    """Staff of the 主办 or a 协办 department, within their region."""
    departments = {d for d in (case.department_id, *case.assist_department_ids) if d}
    return access.can_handle_case(principal, department_ids=departments, region_code=case.region_code)


def can_read(principal: access.Principal, case: Case) -> bool:
    departments = {d for d in (case.department_id, *case.assist_department_ids) if d}
    return access.can_read_case(principal, reporter_account_id=case.reporter_account_id, filed_by=case.filed_by,
                                department_ids=departments, region_code=case.region_code)


def get_case(session: Session, *, principal: access.Principal, case_id: int) -> Case:
    """A case its caller may read; "no such case" for any other (a resident cannot tell which exist)."""
    access.require_login(principal)
    case = session.get(Case, case_id)
    if case is None or not can_read(principal, case):
        raise access.NotYours(N_("No such case"), principal=principal, action="case.read")
    return case


def reporter_for(session: Session, case: Case, principal: access.Principal) -> dict[str, Any]:
    """Who reported the case, as `principal` may see it. The reporter sees themselves; the 12345
    operator sees the caller (to call back, 回访); a department sees the name and phone only when
    the reporter did not ask to stay anonymous and the case is not a 举报 — a 举报's reporter is
    never shown to a department, the one reported on included. Every staff read of a reporter is
    written to the audit chain."""
    if case.reporter_name is None and case.reporter_phone is None:
        return {"shown": False, "reason": "none"}
    if _is_reporter(principal, case):
        return {"shown": True, "name": case.reporter_name, "phone": case.reporter_phone}
    if _is_operator(principal, case):
        shown = True
    elif case.type == "report":
        return {"shown": False, "reason": "report"}
    elif case.anonymous:
        return {"shown": False, "reason": "anonymous"}
    else:
        shown = _is_handler(principal, case)
    if not shown:
        return {"shown": False, "reason": "not_yours"}
    record(session, actor=principal.actor, actor_department=principal.department_id, action="case.reporter_read",
           subject=f"case:{case.id}", department_id=case.department_id, region_code=case.region_code,
           purpose="case handling", details={"case": case.id})
    return {"shown": True, "name": case.reporter_name, "phone": case.reporter_phone,
            "masked_phone": masking.phone(case.reporter_phone)}


def timeline(session: Session, case: Case) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


def attachments(session: Session, case: Case) -> list[CaseAttachment]:
    return list(session.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case.id)
                                .order_by(CaseAttachment.id)))


def open_attachment(session: Session, *, storage: Storage, principal: access.Principal, case_id: int,
                    attachment_id: int) -> tuple[CaseAttachment, bytes]:
    case = get_case(session, principal=principal, case_id=case_id)
    row = session.get(CaseAttachment, attachment_id)
    if row is None or row.case_id != case.id:
        raise NotFound(N_("No such attachment"))
    if principal.kind != "resident":
        record(session, actor=principal.actor, actor_department=principal.department_id, action="case.attachment_read",
               subject=f"case:{case.id}", region_code=case.region_code, purpose="case handling",
               details={"case": case.id, "attachment": row.id})
    return row, storage.get(row.sha256)


def add_attachment(session: Session, *, storage: Storage, principal: access.Principal, case_id: int,
                   data: bytes) -> CaseAttachment:
    """A photo or document added to an open case by whoever filed it."""
    case = get_case(session, principal=principal, case_id=case_id)
    if case.filed_by != principal.actor:
        raise access.NotYours(N_("No such case"), principal=principal, action="case.attach")
    if case.status not in OPEN:
        raise Conflict(N_("This case is no longer open"), field="status")
    if not data:
        raise Invalid(N_("The file is empty"), field="file")
    if len(data) > MAX_ATTACHMENT:
        raise Invalid(N_("The file is larger than %(kb)s KB"), field="file", kb=MAX_ATTACHMENT // 1024)
    if len(attachments(session, case)) >= MAX_ATTACHMENTS:
        raise Invalid(N_("At most %(n)s files"), field="file", n=MAX_ATTACHMENTS)
    media = _sniff(data, "file")
    row = CaseAttachment(case_id=case.id, sha256=storage.put(data), size=len(data), media_type=media,
                         uploaded_by=principal.actor, created_at=clock.now())
    session.add(row)
    session.flush()
    _event(session, case, "attached", principal, attachment=row.id, media_type=media)
    return row


def clock_of(case: Case, today: dt.date, calendar: Any) -> dict[str, Any]:
    """Where the case's time limit stands: working days allowed and used, overdue."""
    allowed = calendar.working_days_between(case.clock_started_on, case.due_date)
    used = calendar.working_days_between(case.clock_started_on, today)
    running = case.status in OPEN
    return {"due_date": case.due_date.isoformat(), "working_days_allowed": allowed, "working_days_used": used,
            "overdue": running and today > case.due_date, "running": running}


# --- lists ----------------------------------------------------------------------------------------

TABS = ("open", "intake", "overdue", "answered", "closed")


@dataclass
class CasePage:
    rows: list[Case]
    next_cursor: str | None


def _tab(tab: str, today: dt.date) -> Any:
    return {"open": Case.status.in_(OPEN), "intake": Case.status.in_(("received", "returned")),
            "overdue": and_(Case.status.in_(OPEN), Case.due_date < today),
            "answered": Case.status == "replied", "closed": Case.status.in_(("closed", "merged"))}[tab]


def _scope(principal: access.Principal) -> Any:
    """The operator: the region's cases; a department's staff: their department's (主办), in their region."""
    return access.case_scope(principal, region=Case.region_code, department=Case.department_id)


def queue(session: Session, *, principal: access.Principal, tab: str = "open", limit: int = 50,
          cursor: str | None = None, today: dt.date | None = None) -> CasePage:
    """Staff's list of cases, oldest first. The 12345 operator sees the region's cases; a
    department's officers see the cases dispatched to their department (主办 or 协办) in their
    region — the same row scope as the task queue."""
    access.require_any(principal, OPERATE, HANDLE, "task.reassign")
    if tab not in TABS:
        raise Invalid(N_("Unknown queue tab"), field="tab")
    paging.check_limit(limit)
    after = paging.decode_cursor(cursor)
    today = today or clock.today()
    q = select(Case).where(_scope(principal))
    q = q.where(_tab(tab, today))
    if after is not None:
        q = q.where(Case.id > after)
    rows = list(session.scalars(q.order_by(Case.id).limit(limit + 1)))
    page, next_cursor = paging.page_of(rows, limit, key=lambda c: c.id)
    return CasePage(page, next_cursor)


def my_cases(session: Session, *, principal: access.Principal, limit: int = 50, cursor: str | None = None) -> CasePage:
    """A resident's own cases (or a grid worker's reports), newest first."""
    access.require_login(principal)
    paging.check_limit(limit)
    after = paging.decode_cursor(cursor)
    if principal.kind == "resident":
        q = select(Case).where(Case.reporter_account_id == principal.account_id)
    else:
        q = select(Case).where(Case.filed_by == principal.actor)
    if after is not None:
        q = q.where(Case.id < after)
    rows = list(session.scalars(q.order_by(Case.id.desc()).limit(limit + 1)))
    page, next_cursor = paging.page_of(rows, limit, key=lambda c: c.id)
    return CasePage(page, next_cursor)


# --- filing (受理) ---------------------------------------------------------------------------------


def _event(session: Session, case: Case, kind: str, principal: access.Principal | str,
           department_id: str | None = None, **details: Any) -> None:
    actor = principal if isinstance(principal, str) else principal.actor
    now = clock.now()
    session.add(CaseEvent(case_id=case.id, at=now, kind=kind, actor=actor, department_id=department_id,
                          details=details))
    record(session, actor=actor, action=f"case.{kind}", subject=f"case:{case.id}",
           department_id=department_id or case.department_id, region_code=case.region_code,
           details={"case": case.id, **{k: v for k, v in details.items() if k not in ("text", "note")}})
    case.updated_at = now


def _sniff(data: bytes, field: str) -> str:
    for media, magic in IMAGE_KINDS.values():
        if data.startswith(magic):
            return media
    raise Invalid(N_("The file is not a JPEG or PNG photo or a PDF document"), field=field)


def _region(session: Session, code: str | None) -> str:
    if not code or session.get(Region, code) is None:
        raise Invalid(N_("Choose where this is"), field="region_code")
    return code


@dataclass
class Filing:
    """What a filing says, from any channel."""

    description: str
    category_id: str
    type: str | None = None
    region_code: str | None = None
    address: str | None = None
    longitude: float | None = None
    latitude: float | None = None
    datum: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    anonymous: bool = False
    files: Sequence[tuple[str | None, bytes]] = ()
    caller_person_id: int | None = None


# --- find the caller (hotline) -------------------------------------------------------------------


def caller_query_kind(query: str) -> str:
    """What the operator typed: a mobile or fixed-line number, a resident ID number, or a name."""
    q = query.strip().replace(" ", "").replace("-", "")
    if q.isdigit() and 7 <= len(q) <= 12:
        return "phone"
    if len(q) == 18 and q[:17].isdigit() and (q[17].isdigit() or q[17] in "xX"):
        return "id_number"
    if len(q) == 15 and q.isdigit():
        return "id_number"
    return "name"


def find_callers(session: Session, *, principal: access.Principal, query: str,
                 birth_date: dt.date | None = None) -> list[dict[str, Any]]:
    """找人: the registered residents matching what the caller says (phone, ID number, or name
    with the birth date), in the operator's region. A personal-data read, so it is the data hub's
    staff search (`datahub.persons.search_persons`): the operator's department's basis for
    `ds.person`, the records released masked as the hub masks them, one `person.search` audit
    event (criteria kinds only, never the values)."""
    access.require(principal, OPERATE)
    query = (query or "").strip()
    if not query:
        raise Invalid(N_("Type the caller's phone number, ID number or name"), field="caller_query")
    kind = caller_query_kind(query)
    try:
        if kind == "phone":
            return persons.search_persons(session, principal=principal, phone=query, via="cases.intake")
        if kind == "id_number":
            return persons.search_persons(session, principal=principal, id_number=query, via="cases.intake")
        if birth_date is None:
            raise Invalid(N_("A search by name needs the caller's birth date"), field="caller_birth_date")
        return persons.search_persons(session, principal=principal, name=query, birth_date=birth_date,
                                      via="cases.intake")
    except Invalid as exc:
        if exc.field in ("phone", "id_number", "name"):
            exc.field = "caller_query"
        if exc.field == "birth_date":
            exc.field = "caller_birth_date"
        raise


def _attach_caller(session: Session, principal: access.Principal, person_id: int) -> int | None:
    """The registered resident the operator chose: read through the data hub (region, basis,
    `person.read` audited, masked), then linked to the resident's own account when they have one,
    so that they follow the case in 我要说 and are told of the answer. Returns the account id."""
    try:
        persons.find_person(session, principal=principal, person_id=person_id, via="cases.intake")
    except (NotFound, access.Denied) as exc:
        raise Invalid(N_("Choose the caller from the residents found"), field="caller_person_id") from exc
    # Internal to the link (shown to no one): the ID number that ties the record to an account.
    id_number = registry.get_person(session, person_id).id_number
    return session.scalar(select(Account.id).where(Account.id_number == id_number, Account.kind == "resident"))


def _check_location(f: Filing) -> None:
    if (f.longitude is None) != (f.latitude is None):
        raise Invalid(N_("Give both longitude and latitude"), field="latitude" if f.latitude is None else "longitude")
    if f.longitude is not None and f.latitude is not None:
        if not (73 <= f.longitude <= 136):
            raise Invalid(N_("The longitude is outside China"), field="longitude")
        if not (3 <= f.latitude <= 54):
            raise Invalid(N_("The latitude is outside China"), field="latitude")
        if f.datum not in DATUMS:
            raise Invalid(N_("Name the datum of the coordinates (WGS84, GCJ02, BD09 or CGCS2000)"), field="datum")
    if not (f.address or "").strip() and f.longitude is None:
        raise Invalid(N_("Give an address or the coordinates"), field="address")


def file_case(session: Session, *, principal: access.Principal, channel: str, filing: Filing,
              storage: Storage | None = None, api_key_id: int | None = None) -> Case:
    """受理: check and store a new case from `channel`; dispatch it at once when the 派单目录
    has a rule for its category and region, else it waits for the 12345 operator.

    portal — a resident for themselves; hotline — an operator for a caller; grid — a grid
    worker's grid event; api — an Open311 client (its key already checked)."""
    if channel == "portal":
        access.require(principal, "self.apply")
    elif channel == "hotline":
        access.require(principal, OPERATE)
    elif channel == "grid":
        access.require(principal, "grid.visit")
    elif channel != "api":
        raise Invalid(N_("Unknown channel"), field="channel")
    description = free_text((filing.description or "").strip(), field="description", max_length=2000)
    if len(description) < 5:
        raise Invalid(N_("Describe the matter in a few words"), field="description")
    if (emergency := emergency_in(session, description)) is not None:
        raise EmergencyRefused(N_("This sounds like an emergency: call %(number)s now. 12345 cannot send help."),
                               field="description", number=emergency["number"])
    cat = category(session, filing.category_id)
    if channel == "grid":
        if cat.kind != "grid":
            raise Invalid(N_("Choose a grid event category"), field="category_id")
        case_type = "grid"
    else:
        if cat.kind == "cockpit":
            raise Invalid(N_("This category is for supervision raised from the cockpit"), field="category_id")
        if cat.kind != "hotline":
            raise Invalid(N_("Grid event categories are for grid workers"), field="category_id")
        case_type = filing.type or cat.default_type
        if case_type not in TYPES:
            raise Invalid(N_("Unknown case type"), field="type")
    region_code = _region(session, filing.region_code or principal.region_code)
    if channel in ("hotline", "grid"):
        access.require_region(principal, region_code)
    _check_location(filing)
    address = free_text(filing.address.strip(), field="address", max_length=300) if filing.address else None
    name, phone = filing.reporter_name, filing.reporter_phone
    account_id = None
    if channel == "portal":
        account_id = principal.account_id
        account = session.get(Account, account_id) if account_id is not None else None
        name = principal.display_name
        phone = account.phone if account is not None else None
    elif channel == "grid":
        name, phone = principal.display_name, None
    caller_details: dict[str, Any] = {}
    if channel == "hotline" and filing.caller_person_id is not None:
        account_id = _attach_caller(session, principal, filing.caller_person_id)
        caller_details = {"caller": masking.subject("person", filing.caller_person_id),
                          "caller_account": account_id is not None}
    if name:
        name = person_name(name.strip(), field="reporter_name", max_length=64)
    if phone:
        phone = phone.strip()
        if not (phone.isdigit() and 7 <= len(phone) <= 20):
            raise Invalid(N_("Enter a phone number of digits only"), field="reporter_phone")
    files = [f for f in filing.files if f[1]]
    if len(files) > MAX_ATTACHMENTS:
        raise Invalid(N_("At most %(n)s files"), field="files", n=MAX_ATTACHMENTS)
    media = []
    for i, (_, data) in enumerate(files):
        if len(data) > MAX_ATTACHMENT:
            raise Invalid(N_("The file is larger than %(kb)s KB"), field=f"files.{i}", kb=MAX_ATTACHMENT // 1024)
        media.append(_sniff(data, f"files.{i}"))
    if files and storage is None:
        raise Invalid(N_("Attachments cannot be stored here"), field="files")
    case = _open(session, cat, case_type, channel=channel, description=description, region_code=region_code,
                 filed_by=principal.actor if channel != "api" else f"open311:{api_key_id}",
                 event={"attachments": len(files), **caller_details},
                 address=address, longitude=filing.longitude, latitude=filing.latitude,
                 datum=filing.datum if filing.longitude is not None else None, reporter_account_id=account_id,
                 reporter_name=name, reporter_phone=phone, anonymous=bool(filing.anonymous), api_key_id=api_key_id)
    for (_, data), media_type in zip(files, media, strict=True):
        digest = storage.put(data) if storage is not None else ""
        session.add(CaseAttachment(case_id=case.id, sha256=digest, size=len(data), media_type=media_type,
                                   uploaded_by=case.filed_by, created_at=case.created_at))
    rule = route(session, cat.id, region_code)
    if rule is not None:
        _dispatch(session, case, rule.department_id, list(rule.assist), "system:dispatch", rule=True)
    session.flush()
    return case


def _open(session: Session, cat: CaseCategory, case_type: str, *, channel: str, description: str, region_code: str,
          filed_by: str, event: dict[str, Any], **fields: Any) -> Case:
    """A new case, received (受理) now, its time limit started: the row and its first timeline event."""
    now = clock.now()
    start = clock.local_date(now)
    days = time_limit(session, case_type, cat)
    case = Case(public_id=secrets.token_hex(16), kind=cat.kind, type=case_type, category_id=cat.id,
                description=description, region_code=region_code, channel=channel, filed_by=filed_by,
                status="received", assist_department_ids=[], clock_started_on=start,
                due_date=workdays.calendar(session).add_working_days(start, days), created_at=now, updated_at=now,
                **fields)
    session.add(case)
    session.flush()
    _event(session, case, "received", filed_by, channel=channel, type=case_type, category=cat.id,
           due_date=case.due_date.isoformat(), working_days=days, **event)
    return case


# --- dispatch (派单, 改派) and the department's steps ---------------------------------------------


def _dispatch(session: Session, case: Case, department_id: str, assist: list[str], actor: access.Principal | str,
              reason: str | None = None, rule: bool = False, notify_queue: bool = True) -> None:
    previous = case.department_id
    case.department_id = department_id
    case.assist_department_ids = [d for d in assist if d != department_id]
    case.status = "dispatched"
    kind = "redispatched" if previous is not None or reason else "dispatched"
    details: dict[str, Any] = {"to": department_id, "assist": case.assist_department_ids, "by_rule": rule}
    if previous is not None:
        details["from"] = previous
    if reason:
        details["reason"] = reason
    _event(session, case, kind, actor, department_id=department_id, **details)
    if notify_queue:
        from tongban.cases import notify

        notify.department(session, case, department_id, kind)


def _check_version(case: Case, version: int | None) -> None:
    if version is not None and version != case.version:
        raise Conflict(N_("Someone else changed this case meanwhile; reload it"), field="version")
    case.version += 1


def _department(session: Session, department_id: str, field: str) -> str:
    if session.get(Department, department_id) is None:
        raise Invalid(N_("No such department"), field=field)
    return department_id


def dispatch(session: Session, *, principal: access.Principal, case_id: int, department_id: str,
             assist: Sequence[str] = (), reason: str | None = None, version: int | None = None) -> Case:
    """派单 by the 12345 operator, or 改派 (with a reason) of a case already sent or returned."""
    access.require(principal, OPERATE)
    case = get_case(session, principal=principal, case_id=case_id)
    if not _is_operator(principal, case):
        access.require_region(principal, case.region_code)
    if case.status not in ("received", "returned", "dispatched"):
        raise Conflict(N_("This case can no longer be dispatched"), field="status")
    _department(session, department_id, "department_id")
    for i, d in enumerate(assist):
        _department(session, d, f"assist.{i}")
    reason = free_text(reason.strip(), field="reason", max_length=500) if reason and reason.strip() else None
    if case.department_id is not None and case.department_id != department_id and not reason:
        raise Invalid(N_("Give the reason for sending it elsewhere"), field="reason")
    if case.status == "returned" and not reason:
        reason = None  # a returned case goes on with the return's reason in its history
    _check_version(case, version)
    _dispatch(session, case, department_id, list(assist), principal, reason=reason)
    return case


def _handled(session: Session, principal: access.Principal, case_id: int, statuses: Sequence[str],
             version: int | None) -> Case:
    access.require(principal, HANDLE)
    case = get_case(session, principal=principal, case_id=case_id)
    if not access.can_handle_case(principal, department_ids={case.department_id or ""},
                                  region_code=case.region_code):
        raise access.Denied(N_("Only the 主办 department handles this case"), principal=principal,
                            action="case.handle")
    if case.status not in statuses:
        raise Conflict(N_("This case is not at this step"), field="status")
    _check_version(case, version)
    return case


def accept(session: Session, *, principal: access.Principal, case_id: int, version: int | None = None) -> Case:
    """签收: the department takes the case on."""
    case = _handled(session, principal, case_id, ("dispatched",), version)
    case.status = "accepted"
    _event(session, case, "accepted", principal, department_id=case.department_id)
    return case


def return_case(session: Session, *, principal: access.Principal, case_id: int, reason: str,
                version: int | None = None) -> Case:
    """退单: not this department's matter; back to the 12345 operator with the reason."""
    reason = free_text((reason or "").strip(), field="reason", max_length=500)
    if len(reason) < 2:
        raise Invalid(N_("Give the reason for returning the case"), field="reason")
    case = _handled(session, principal, case_id, ("dispatched", "accepted"), version)
    department = case.department_id
    case.status = "returned"
    case.department_id = None
    case.assist_department_ids = []
    _event(session, case, "returned", principal, department_id=department, reason=reason)
    return case


def _merged_into(session: Session, case: Case) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.merged_into_id == case.id).order_by(Case.id)))


def reply(session: Session, *, principal: access.Principal, case_id: int, text: str,
          version: int | None = None) -> Case:
    """答复: the department's answer to the reporter — and to every reporter of a case merged into it.
    The 12345 operator may answer an enquiry directly (直接答复) while it is not yet dispatched."""
    text = free_text((text or "").strip(), field="text", max_length=2000)
    if len(text) < 2:
        raise Invalid(N_("Write the answer"), field="text")
    if principal.has(OPERATE) and not principal.has(HANDLE):
        case = get_case(session, principal=principal, case_id=case_id)
        if case.status not in ("received", "returned") or not _is_operator(principal, case):
            raise Conflict(N_("This case is not at this step"), field="status")
        _check_version(case, version)
    else:
        case = _handled(session, principal, case_id, ("accepted",), version)
    now = clock.now()
    for c in [case, *_merged_into(session, case)]:
        c.reply, c.replied_at = text, now
        if c.status != "merged":
            c.status = "replied"
        via_master: dict[str, Any] = {"via": case.id} if c is not case else {}
        _event(session, c, "replied", principal, department_id=case.department_id, text=text, **via_master)
        from tongban.cases import notify

        notify.reporter(session, c, "replied")
    return case


def close(session: Session, *, principal: access.Principal, case_id: int, version: int | None = None) -> Case:
    """办结: the 12345 operator closes an answered case (and the cases merged into it)."""
    access.require(principal, OPERATE)
    case = get_case(session, principal=principal, case_id=case_id)
    if case.status != "replied":
        raise Conflict(N_("Only an answered case can be closed"), field="status")
    _check_version(case, version)
    now = clock.now()
    for c in [case, *_merged_into(session, case)]:
        c.closed_at = now
        if c.status != "merged":
            c.status = "closed"
        via: dict[str, Any] = {"via": case.id} if c is not case else {}
        _event(session, c, "closed", principal, **via)
        from tongban.cases import notify

        notify.reporter(session, c, "closed")
    return case


def _rating(value: int) -> int:
    if not isinstance(value, int) or not 1 <= value <= 5:
        raise Invalid(N_("Rate from 1 (very dissatisfied) to 5 (very satisfied)"), field="rating")
    return value


def _rated(session: Session, case: Case, level: int, channel: str, principal: access.Principal) -> None:
    """The rating is the ratings slice's (好差评): its listener records it once, or refuses a second."""
    listeners = slices.contributed(reads.RATED)
    if not listeners:
        raise Conflict(N_("Ratings are not available"), field="rating")
    for listener in listeners:
        listener(session, case_id=case.id, level=level, channel=channel, principal=principal)


def rate(session: Session, *, principal: access.Principal, case_id: int, rating: int) -> Case:
    """评价: the reporter rates a closed case, once (1 非常不满意 … 5 非常满意), through the ratings slice."""
    case = get_case(session, principal=principal, case_id=case_id)
    if not _is_reporter(principal, case):
        raise access.NotYours(N_("No such case"), principal=principal, action="case.rate")
    if case.closed_at is None:
        raise Conflict(N_("A case is rated once it is closed"), field="status")
    _rated(session, case, _rating(rating), "online", principal)
    return case


def visit(session: Session, *, principal: access.Principal, case_id: int, rating: int | None = None,
          note: str | None = None) -> Case:
    """回访: the operator calls the reporter back after 办结 and records their satisfaction (when
    they have not rated it themselves) as a rating of the ratings slice."""
    access.require(principal, OPERATE)
    case = get_case(session, principal=principal, case_id=case_id)
    if case.closed_at is None:
        raise Conflict(N_("A return visit follows the closing of the case"), field="status")
    note = free_text(note.strip(), field="note", max_length=500) if note and note.strip() else None
    case.visited_at = clock.now()
    _event(session, case, "visited", principal, note=note)
    if rating is not None:
        _rated(session, case, _rating(rating), "visit", principal)
    return case


# --- 督办 ----------------------------------------------------------------------------------------


def supervise(session: Session, *, principal: access.Principal | None, case_id: int, note: str | None = None) -> Case:
    """督办: press the department on a case (by hand: the operator or the cockpit; or the overdue
    watch, `principal` None). Lands in the department's staff inboxes."""
    if principal is not None:
        access.require_any(principal, OPERATE, "cockpit.view")
        case = session.get(Case, case_id)
        if case is None or not (access.can_operate_case(principal, case.region_code)
                                or (principal.has("cockpit.view") and access.can_act_in_region(principal, case.region_code))):
            raise access.NotYours(N_("No such case"), principal=principal, action="case.supervise")
    else:
        found = session.get(Case, case_id)
        if found is None:
            raise NotFound(N_("No such case"))
        case = found
    if case.status not in OPEN or case.department_id is None:
        raise Conflict(N_("Only a case in a department's hands can be supervised"), field="status")
    note = free_text(note.strip(), field="note", max_length=500) if note and note.strip() else None
    case.supervisions += 1
    actor = principal if principal is not None else "system:cases"
    _event(session, case, "supervised", actor, department_id=case.department_id, note=note,
           overdue=case.due_date < clock.today(), automatic=principal is None)
    from tongban.cases import notify

    notify.department(session, case, case.department_id, "supervised")
    return case


SUPERVISE_FROM_COCKPIT = "cockpit.region"  # a leader of the region (and the 督查室, and a platform admin)
NOTE_MAX = 500


def supervision_category(session: Session) -> CaseCategory:
    """The pack's category for 督办 raised about a matter that is not yet a case (kind `cockpit`)."""
    found = categories(session, "cockpit")
    if not found:
        raise Conflict(N_("The pack declares no category for supervision from the cockpit"), field="category_id")
    return found[0]


def _narrower(a: str, b: str) -> str | None:
    """The deeper of two regions when one holds the other; None when neither does."""
    if access.in_subtree(a, b):
        return a
    if access.in_subtree(b, a):
        return b
    return None


def raise_supervision(session: Session, *, principal: access.Principal, department_id: str, region_code: str,
                      title: str, details: Sequence[str] = (), note: str | None, link: str | None = None) -> Case:
    """督办 about a matter that is not a case yet (a cockpit early warning): a case of the pack's
    supervision category is filed for it (受理, channel `cockpit`), put straight in the department's
    hands (派单) with its time limit running, and supervised (督办, `supervise`) — so it lands in the
    department's queue, its head's and the region's 督查室's inboxes. A leader of the region or a
    platform admin; nobody presses their own department. The note (what to do) is required."""
    access.require_another_department(principal, department_id, action="case.supervise")
    access.require(principal, SUPERVISE_FROM_COCKPIT)
    region_code = _region(session, region_code)
    access.require_region(principal, region_code)
    _department(session, department_id, "department_id")
    text = free_text((note or "").strip(), field="note", max_length=NOTE_MAX)
    if len(text) < 2:
        raise Invalid(N_("Write what the department is asked to do"), field="note")
    cat = supervision_category(session)
    dept = session.get(Department, department_id)
    assert dept is not None
    # The department's own region when the matter's region holds it (a street office under a
    # district's warning), so that its staff, who act within their region, can take the case.
    where = _narrower(dept.region_code, region_code) or region_code
    heading = free_text(" · ".join(p.strip() for p in (title, *details) if p and p.strip()), field="title",
                        max_length=600)
    description = f"{heading}\n{text}"
    case = _open(session, cat, cat.default_type, channel="cockpit", description=description, region_code=where,
                 filed_by=principal.actor, event={"link": link} if link else {})
    _dispatch(session, case, department_id, [], principal, notify_queue=False)
    return supervise(session, principal=principal, case_id=case.id, note=text)


def flag_overdue(session: Session, *, today: dt.date | None = None) -> int:
    """The overdue watch: each open case in a department's hands past its due date is flagged once
    and supervised (督办). Returns how many."""
    today = today or clock.today()
    rows = session.scalars(select(Case).where(Case.status.in_(DEPARTMENT_OPEN), Case.overdue_at.is_(None),
                                              Case.due_date < today).order_by(Case.id).limit(1000)).all()
    for case in rows:
        case.overdue_at = clock.now()
        supervise(session, principal=None, case_id=case.id)
    session.flush()
    return len(rows)


# --- 并单 ----------------------------------------------------------------------------------------


def _distance_m(a: Case, b: Case) -> float | None:
    if None in (a.longitude, a.latitude, b.longitude, b.latitude):
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))  # type: ignore[arg-type]
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371000 * math.asin(math.sqrt(h))


def duplicates(session: Session, *, principal: access.Principal, case_id: int) -> list[tuple[Case, float | None]]:
    """Likely repeats of a case for the operator: same category, open, filed within the pack's
    window before or after it, and within its distance (or at the same address when either has
    no coordinates). With the distance in metres where known."""
    access.require(principal, OPERATE)
    case = get_case(session, principal=principal, case_id=case_id)
    merge = setting(session, "merge")
    window = dt.timedelta(hours=int(merge["window_hours"]))
    candidates = session.scalars(select(Case).where(
        Case.category_id == case.category_id, Case.id != case.id, Case.status.in_((*OPEN, "replied")),
        Case.created_at >= case.created_at - window, Case.created_at <= case.created_at + window,
        access.scope(principal, region=Case.region_code)).order_by(Case.id).limit(200)).all()
    found: list[tuple[Case, float | None]] = []
    for c in candidates:
        d = _distance_m(case, c)
        if d is not None and d <= float(merge["distance_m"]):
            found.append((c, float(round(d))))
        elif d is None and case.address and c.address and _same_address(case.address, c.address):
            found.append((c, None))
    return found


def _same_address(a: str, b: str) -> bool:
    return "".join(a.split()).lower() == "".join(b.split()).lower()


def merge(session: Session, *, principal: access.Principal, case_id: int, into_id: int) -> Case:
    """并单: `case_id` is a repeat of `into_id`; it is closed into it and its reporter will be
    answered with the master's answer (and its closing)."""
    access.require(principal, OPERATE)
    if case_id == into_id:
        raise Invalid(N_("A case cannot be merged into itself"), field="into_id")
    case = get_case(session, principal=principal, case_id=case_id)
    master = get_case(session, principal=principal, case_id=into_id)
    if case.status not in OPEN or _merged_into(session, case):
        raise Conflict(N_("This case cannot be merged"), field="status")
    if master.status not in (*OPEN, "replied"):
        raise Conflict(N_("The case to merge into is closed"), field="into_id")
    if master.category_id != case.category_id:
        raise Invalid(N_("Only cases of the same category are merged"), field="into_id")
    case.status, case.merged_into_id = "merged", master.id
    case.department_id = master.department_id
    _event(session, case, "merged", principal, into=master.id)
    _event(session, master, "merged_in", principal, repeat=case.id)
    if master.status == "replied" and master.reply:
        case.reply, case.replied_at = master.reply, master.replied_at
        _event(session, case, "replied", principal, via=master.id, text=master.reply)
        from tongban.cases import notify

        notify.reporter(session, case, "replied")
    return case


# --- counts for the pages ------------------------------------------------------------------------


def tab_counts(session: Session, *, principal: access.Principal, today: dt.date | None = None) -> dict[str, int]:
    """Every tab's count over the caller's whole queue, in one aggregate query."""
    access.require_any(principal, OPERATE, HANDLE, "task.reassign")
    today = today or clock.today()
    cols = [func.coalesce(func.sum(when((_tab(t, today), 1), else_=0)), 0).label(t) for t in TABS]
    row = session.execute(select(*cols).select_from(Case).where(_scope(principal))).one()
    return {t: int(row._mapping[t] or 0) for t in TABS}


def department_names(session: Session, ids: Sequence[str | None]) -> dict[str, Department]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {d.id: d for d in session.scalars(select(Department).where(Department.id.in_(wanted)))}


def count_open(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Case).where(Case.status.in_(OPEN))) or 0)
