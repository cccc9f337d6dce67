"""Open311 GeoReport v2 over the case engine, at /open311/v2/ in JSON or XML by the
specification's format suffix: services.{json,xml}, services/{code}.{json,xml},
requests.{json,xml} (GET and POST), requests/{id}.{json,xml}. The XML uses the specification's
element names (services/service, service_definition, service_requests/request, errors/error).

Services are the pack's hotline categories. POST needs an API key (`tongban cases key-create`);
its filings enter the engine by the `api` channel, coordinates in WGS84 as the specification says.
The GET lists are public, so they carry no personal data: no description, no reporter, the
address cut after its road, coordinates rounded to about 100 m, and no 举报 at all. Errors are the
specification's list of {code, description}.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import xml.etree.ElementTree as ET
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.cases import engine
from tongban.cases.models import Case, CaseCategory, Open311Key
from tongban.core import access, clock, masking
from tongban.core.errors import TongbanError
from tongban.core.i18n import pick
from tongban.core.identity.models import Department
from tongban.core.storage import storage_for
from tongban.webkit.deps import DbSession

router = APIRouter(prefix="/open311/v2", include_in_schema=False)  # its own specification, not our OpenAPI
PUBLIC_LIMIT = 200


FORMATS = ("json", "xml")
# The XML documents' root and item elements, as the specification names them.
_XML = {"services": ("services", "service"), "requests": ("service_requests", "request"),
        "errors": ("errors", "error"), "definition": ("service_definition", None)}


def _xml_value(parent: ET.Element, name: str, value: Any) -> None:
    el = ET.SubElement(parent, name)
    if isinstance(value, bool):
        el.text = "true" if value else "false"
    elif isinstance(value, list):
        for item in value:
            _xml_value(el, name[:-1] if name.endswith("s") else "item", item)
    elif isinstance(value, dict):
        for k, v in value.items():
            _xml_value(el, k, v)
    elif value is not None:
        el.text = str(value)


def _out(fmt: str, kind: str, data: Any, status: int = 200) -> Response:
    """The document in the asked format: JSON as it is, or XML with the specification's elements."""
    if fmt != "xml":
        return JSONResponse(data, status_code=status)
    root_name, item = _XML[kind]
    root = ET.Element(root_name)
    for row in (data if item is not None else [data]):
        parent = ET.SubElement(root, item) if item is not None else root
        for k, v in row.items():
            _xml_value(parent, k, v)
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return Response(body, status_code=status, media_type="text/xml; charset=utf-8")


def _error(status: int, description: str, fmt: str = "json") -> Response:
    return _out(fmt, "errors", [{"code": status, "description": description}], status)


def _unknown_format() -> Response:
    return _error(404, "format: json or xml")


def _time(ts: dt.datetime | None) -> str | None:
    return clock.local(ts).isoformat(timespec="seconds") if ts is not None else None


def _service(c: CaseCategory) -> dict[str, Any]:
    d = c.definition
    return {"service_code": c.id, "service_name": pick(d["title"]), "description": pick(d["description"]),
            "metadata": False, "type": "realtime", "keywords": ",".join(d.get("keywords", [])),
            "group": c.default_type}


@router.get("/services.{fmt}")
def services(fmt: str, session: DbSession) -> Response:
    if fmt not in FORMATS:
        return _unknown_format()
    return _out(fmt, "services", [_service(c) for c in engine.categories(session, "hotline")])


@router.get("/services/{service_code}.{fmt}")
def service_definition(service_code: str, fmt: str, session: DbSession) -> Response:
    if fmt not in FORMATS:
        return _unknown_format()
    c = session.get(CaseCategory, service_code)
    if c is None or c.kind != "hotline":
        return _error(404, "service_code not found", fmt)
    return _out(fmt, "definition", {"service_code": c.id, "attributes": []})


def _key(session: Session, api_key: str | None) -> Open311Key | None:
    if not api_key:
        return None
    row = session.scalar(select(Open311Key).where(Open311Key.digest == hashlib.sha256(api_key.encode()).hexdigest()))
    return row if row is not None and row.revoked_at is None else None


@router.post("/requests.{fmt}")
def create_request(
    fmt: str, request: Request, session: DbSession,
    api_key: Annotated[str | None, Form()] = None,
    service_code: Annotated[str | None, Form()] = None,
    jurisdiction_id: Annotated[str | None, Form()] = None,
    lat: Annotated[float | None, Form()] = None,
    long: Annotated[float | None, Form()] = None,
    address_string: Annotated[str | None, Form()] = None,
    description: Annotated[str | None, Form()] = None,
    first_name: Annotated[str | None, Form()] = None,
    last_name: Annotated[str | None, Form()] = None,
    phone: Annotated[str | None, Form()] = None,
    email: Annotated[str | None, Form()] = None,
) -> Response:
    if fmt not in FORMATS:
        return _unknown_format()
    key = _key(session, api_key)
    if key is None:
        return _error(403, "api_key is missing or not valid", fmt)
    if not service_code:
        return _error(400, "service_code is required", fmt)
    category = session.get(CaseCategory, service_code)
    if category is None or category.kind != "hotline":
        return _error(404, "service_code not found", fmt)
    name = "".join(p.strip() for p in (last_name or "", first_name or "") if p and p.strip()) or None
    region = jurisdiction_id or engine.setting(session, "open311").get("jurisdiction")
    principal = access.Principal(kind="client", client_id=f"open311:{key.id}")
    filing = engine.Filing(description=description or "", category_id=category.id, region_code=region,
                           address=address_string, longitude=long, latitude=lat,
                           datum="WGS84" if lat is not None or long is not None else None,
                           reporter_name=name, reporter_phone=phone)
    try:
        case = engine.file_case(session, principal=principal, channel="api", filing=filing,
                                storage=storage_for(request.app.state.settings), api_key_id=key.id)
    except TongbanError as exc:
        message = exc.translated()
        field = {"description": "description", "latitude": "lat", "longitude": "long", "address": "address_string",
                 "region_code": "jurisdiction_id", "reporter_name": "first_name",
                 "reporter_phone": "phone"}.get(exc.field or "", exc.field or "")
        return _error(400, f"{field}: {message}" if field else message, fmt)
    return _out(fmt, "requests", [{"service_request_id": case.public_id,
                                   "service_notice": f"due {case.due_date.isoformat()}", "account_id": None}], 201)


def _public(session: Session, cases: list[Case]) -> list[dict[str, Any]]:
    departments = {d.id: d for d in session.scalars(select(Department).where(
        Department.id.in_({c.department_id for c in cases if c.department_id})))}
    cats = {c.id: c for c in engine.categories(session)}
    out = []
    for c in cases:
        closed = c.status in ("closed", "merged") or c.closed_at is not None
        dept = departments.get(c.department_id or "")
        wgs = c.datum == "WGS84" and c.latitude is not None and c.longitude is not None
        out.append({
            "service_request_id": c.public_id, "status": "closed" if closed else "open",
            "status_notes": c.reply if closed and c.type != "report" else None,
            "service_name": pick(cats[c.category_id].definition["title"]) if c.category_id in cats else None,
            "service_code": c.category_id, "description": None,
            "agency_responsible": pick({"zh": dept.name_zh, "en": dept.name_en}) if dept else None,
            "service_notice": None, "requested_datetime": _time(c.created_at), "updated_datetime": _time(c.updated_at),
            "expected_datetime": c.due_date.isoformat(), "address": _road(c.address),
            "address_id": None, "zipcode": None,
            "lat": round(c.latitude, 3) if wgs and c.latitude is not None else None,
            "long": round(c.longitude, 3) if wgs and c.longitude is not None else None, "media_url": None})
    return out


_ROAD = re.compile(r"^(.*?(?:大道|路|街|巷|弄|道))")


def _road(address: str | None) -> str | None:
    """The public form of an address: cut after its road (the display rule of personal addresses);
    none when no road can be found in it."""
    found = _ROAD.match(address or "")
    return masking.address(found.group(1)) if found else None


def _date(value: str | None, name: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(name) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=clock.local(clock.now()).tzinfo)


@router.get("/requests.{fmt}")
def list_requests(fmt: str, session: DbSession, service_request_id: str | None = None, service_code: str | None = None,
                  start_date: str | None = None, end_date: str | None = None, status: str | None = None) -> Response:
    if fmt not in FORMATS:
        return _unknown_format()
    q = select(Case).where(Case.type != "report", Case.kind == "hotline")
    if service_request_id:
        ids = [i.strip() for i in service_request_id.split(",") if i.strip()][:PUBLIC_LIMIT]
        q = q.where(Case.public_id.in_(ids))
    else:
        if service_code:
            q = q.where(Case.category_id.in_([c.strip() for c in service_code.split(",")]))
        try:
            start, end = _date(start_date, "start_date"), _date(end_date, "end_date")
        except ValueError as exc:
            return _error(400, f"{exc}: not a w3c date-time", fmt)
        end = end or clock.now()
        start = start or end - dt.timedelta(days=90)
        q = q.where(Case.created_at >= start, Case.created_at <= end)
        if status == "open":
            q = q.where(Case.closed_at.is_(None), Case.status != "merged")
        elif status == "closed":
            q = q.where((Case.closed_at.is_not(None)) | (Case.status == "merged"))
        elif status:
            return _error(400, "status: open or closed", fmt)
    rows = list(session.scalars(q.order_by(Case.id.desc()).limit(PUBLIC_LIMIT)))
    return _out(fmt, "requests", _public(session, rows))


@router.get("/requests/{service_request_id}.{fmt}")
def get_request(service_request_id: str, fmt: str, session: DbSession) -> Response:
    if fmt not in FORMATS:
        return _unknown_format()
    case = session.scalar(select(Case).where(Case.public_id == service_request_id[:32], Case.type != "report",
                                             Case.kind == "hotline"))
    if case is None:
        return _error(404, "service_request_id not found", fmt)
    return _out(fmt, "requests", _public(session, [case]))
