"""Places API (/api/v1/places/…): categories, the list of places, one place, near-me search, the
map's layers, the service circle (public: places are open data, the circle is an aggregate), and
the import (staff with `places.manage`)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import select

from tongban.core import clock, geo
from tongban.core.errors import Invalid
from tongban.core.i18n import N_, pick
from tongban.core.ids import Id
from tongban.core.paging import DEFAULT_LIMIT, Limit, decode_cursor, page_of
from tongban.core.workdays import calendar
from tongban.places import coverage, service
from tongban.places.importer import import_places
from tongban.places.models import Place, PlaceCategory
from tongban.webkit.deps import CurrentPrincipal, DbSession, needs
from tongban.webkit.schemas import Page, refusals

router = APIRouter(tags=["places"])
MAX_UPLOAD = 50 * 1024 * 1024


class CategoryOut(BaseModel):
    code: str
    title: str
    walking_radius_m: int

    @classmethod
    def of(cls, c: PlaceCategory) -> CategoryOut:
        return cls(code=c.code, title=pick({"zh": c.title_zh, "en": c.title_en}), walking_radius_m=c.walking_radius_m)


class HoursOut(BaseModel):
    weekly: dict[str, list[str]]
    holidays: Literal["open", "closed"]
    open_now: bool = Field(description="Open at the time of the request (Asia/Shanghai, holidays from the calendar).")
    today: list[str]
    holiday_today: bool
    adjusted_workday_today: bool


class PlaceOut(BaseModel):
    id: int
    key: str
    name: str
    category: str
    region_code: str | None
    address: str | None
    phone: str | None
    latitude: float = Field(description="WGS-84")
    longitude: float = Field(description="WGS-84")
    hours: HoursOut
    services: list[str]
    accessibility: list[str]
    items: list[str]
    demo: bool
    distance_m: float | None = Field(None, description="Great-circle metres from the query point (near-me only).")

    @classmethod
    def of(cls, p: Place, cal: Any, at: dt.datetime, distance_m: float | None = None) -> PlaceOut:
        state = service.open_state(p.hours, at, cal)
        return cls(id=p.id, key=p.key, name=pick({"zh": p.name_zh, "en": p.name_en or p.name_zh}),
                   category=p.category, region_code=p.region_code, address=p.address, phone=p.phone,
                   latitude=p.latitude, longitude=p.longitude,
                   hours=HoursOut(weekly=p.hours.get("weekly", {}), holidays=p.hours.get("holidays", "closed"),
                                  open_now=state.open_now, today=state.today, holiday_today=state.holiday,
                                  adjusted_workday_today=state.adjusted_workday),
                   services=p.services, accessibility=p.accessibility, items=p.items, demo=p.demo,
                   distance_m=None if distance_m is None else round(distance_m, 1))


class ImportOut(BaseModel):
    loaded: int
    updated: int
    unchanged: int
    rejected: int
    rejects: list[dict[str, Any]] = Field(description="Rejected rows: line, field, reason (zh and en).")


@router.get("/places/categories")
def list_categories(session: DbSession) -> list[CategoryOut]:
    return [CategoryOut.of(c) for c in service.categories(session)]


@router.get("/places", responses=refusals({422: "A `category` that is not one of /places/categories"}))
def list_places(session: DbSession, category: str | None = None, region: str | None = None,
                cursor: str | None = None, limit: Limit = DEFAULT_LIMIT) -> Page[PlaceOut]:
    """Every place, by id; `category` and `region` (a region code: that region and below) narrow it."""
    after = decode_cursor(cursor)
    stmt = select(Place).order_by(Place.id).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(Place.id > after)
    if category is not None:
        service.category_that_exists(session, category)
        stmt = stmt.where(Place.category == category)
    if region:
        stmt = stmt.where(Place.region_code.startswith(region, autoescape=True))
    rows, nxt = page_of(list(session.scalars(stmt)), limit, key=lambda p: p.id)
    cal, at = calendar(session), clock.now()
    return Page(items=[PlaceOut.of(p, cal, at) for p in rows], next_cursor=nxt)


@router.get("/places/near", responses=refusals({422: "A `category` that is not one of /places/categories"}))
def near_me(session: DbSession,
            lat: Annotated[float, Query(json_schema_extra={"minimum": -90, "maximum": 90},
                                        description="Latitude, WGS-84 (or in `datum`).")],
            lon: Annotated[float, Query(json_schema_extra={"minimum": -180, "maximum": 180},
                                        description="Longitude, WGS-84 (or in `datum`).")],
            radius_m: Annotated[float, Query(json_schema_extra={"exclusiveMinimum": 0, "maximum": service.MAX_RADIUS_M},
                                             description="Metres, great-circle, inclusive.")] = 1000,
            category: str | None = None, datum: Literal["wgs84", "gcj02"] = "wgs84",
            limit: Annotated[int, Query(ge=1, le=service.MAX_RESULTS)] = 20) -> list[PlaceOut]:
    """Places within the radius, nearest first (ties by id). The coordinates' and the radius's bounds
    are in the document and checked by `service.check_query`, whose messages name the bound."""
    service.check_query(lat, lon, radius_m)
    lat, lon = geo.to_stored(datum, lat, lon)
    found = service.near(session, lat=lat, lon=lon, radius_m=radius_m, category=category, limit=limit)
    cal, at = calendar(session), clock.now()
    return [PlaceOut.of(n.place, cal, at, n.distance_m) for n in found]


@router.get("/places/map")
def map_layers(session: DbSession) -> dict[str, Any]:
    """The map page's layers: boundaries (GeoJSON; the demo's are invented, `demo: true`), places,
    and the service circle per community."""
    return coverage.map_layers(session)


@router.get("/places/service-circle")
def service_circle(session: DbSession, region: str = "") -> dict[str, Any]:
    """一刻钟便民服务圈: per community and category, the share of households within the walking
    radius; small counts withheld (None). On the demo, computed on generated points."""
    return coverage.service_circle(session, region_prefix=region)


@router.get("/places/{place_id:int}")
def get_place(session: DbSession, place_id: Id) -> PlaceOut:
    return PlaceOut.of(service.place(session, place_id), calendar(session), clock.now())


@router.post("/places/import", dependencies=[needs("places.manage", "platform.admin")], responses=refusals({
    422: "A file that is not CSV or Parquet (by its name), or is too large"}))
def import_file(principal: CurrentPrincipal, session: DbSession,
                file: Annotated[UploadFile, File(description="CSV (UTF-8, header row) or Parquet.")],
                datum: Annotated[Literal["wgs84", "gcj02"], Form()] = "wgs84") -> ImportOut:
    """Import places; each batch is one transaction, invalid rows come back as rejects."""
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise Invalid(N_("Import files are CSV or Parquet"), field="file")
    data = file.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise Invalid(N_("The file is too large"), field="file")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        report = import_places(None, path, principal=principal, datum=datum, reject_path=Path(tmp) / "rejects.csv",
                               session=session)
    return ImportOut(loaded=report.loaded, updated=report.updated, unchanged=report.unchanged,
                     rejected=report.rejected,
                     rejects=[{"line": r[0], "field": r[1], "reason_zh": r[2], "reason_en": r[3]}
                              for r in report.rejects[:1000]])

