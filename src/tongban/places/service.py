"""Places: opening hours, near-me search, writing places (pack and imports share one upsert).

Near-me (docs/places.md): the circle's grid cells as a few key ranges on the B-tree index
`ix_place_category_cell` (or `ix_place_cell` for every category), the circle's bounding box on
the coordinates of those rows, then the exact great-circle
distance (`core.geo.haversine_m`) on those candidates, ≤ radius kept, nearest first (ties by id).
Plain SQL on both SQLite and PostgreSQL; no extension."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tongban.core import clock, geo
from tongban.core.errors import Invalid, NotFound
from tongban.core.i18n import N_
from tongban.core.timeutil import WorkCalendar
from tongban.places.models import Place, PlaceCategory

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SPAN_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")
ACCESSIBILITY = ("wheelchair", "accessible_toilet", "priority_window", "hearing_loop", "braille", "guide_dog")
MAX_RADIUS_M = 50_000
MAX_RESULTS = 100

# --- opening hours ------------------------------------------------------------------------------


def parse_spans(value: str | Sequence[str]) -> list[str]:
    """"08:30-12:00,13:30-17:00" (or a list) → ["08:30-12:00", "13:30-17:00"]; refuses bad spans."""
    parts = [p.strip() for p in (value.split(",") if isinstance(value, str) else value) if p.strip()]
    for p in parts:
        if not SPAN_RE.match(p) or p[:5] >= p[6:]:
            raise Invalid(N_("Opening hours are spans like 08:30-17:00"), field="hours")
    return parts


def parse_hours_text(text: str) -> dict[str, list[str]]:
    """The import form: "mon-fri 08:30-17:00; sat 09:00-12:00,14:00-17:00" → weekly spans."""
    weekly: dict[str, list[str]] = {}
    for clause in (c.strip() for c in text.split(";")):
        if not clause:
            continue
        days, _, spans = clause.partition(" ")
        first, _, last = days.lower().partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise Invalid(N_("Opening hours start with days like mon-fri"), field="hours")
        i, j = DAYS.index(first), DAYS.index(last or first)
        if j < i:
            raise Invalid(N_("Opening hours start with days like mon-fri"), field="hours")
        for d in DAYS[i:j + 1]:
            weekly[d] = parse_spans(spans)
    return weekly


@dataclass(frozen=True)
class OpenState:
    open_now: bool
    today: list[str]  # today's spans (empty: closed today)
    holiday: bool  # today is a public holiday (a weekday off in the calendar)
    adjusted_workday: bool  # today is a weekend day worked (调休上班)


def open_state(hours: Mapping[str, Any], at: dt.datetime, cal: WorkCalendar) -> OpenState:
    """Open or closed at `at` (aware), by Asia/Shanghai wall time and the working-day calendar:
    on a public holiday (a Monday–Friday the calendar says is off) the place keeps its weekly
    hours only if `holidays: open`; on a weekend day worked (调休) it opens with Monday's hours
    if it has none of its own that day (unless `holidays: open`, a place that keeps weekend
    hours anyway)."""
    local = clock.local(at)
    day = local.date()
    weekly: Mapping[str, list[str]] = hours.get("weekly", {})
    name = DAYS[day.weekday()]
    workday = cal.is_workday(day)
    holiday = day.weekday() < 5 and not workday
    adjusted = day.weekday() >= 5 and workday
    spans = list(weekly.get(name, []))
    if holiday and hours.get("holidays", "closed") == "closed":
        spans = []
    elif adjusted and not spans:
        spans = list(weekly.get("mon", []))
    now = f"{local:%H:%M}"
    return OpenState(open_now=any(s[:5] <= now < s[6:] for s in spans), today=spans, holiday=holiday,
                     adjusted_workday=adjusted)


# --- categories and places ------------------------------------------------------------------------


def categories(session: Session) -> list[PlaceCategory]:
    return list(session.scalars(select(PlaceCategory).order_by(PlaceCategory.position, PlaceCategory.code)))


def category_that_exists(session: Session, code: str, field: str = "category") -> PlaceCategory:
    found = session.get(PlaceCategory, code)
    if found is None:
        raise Invalid(N_("Unknown place category"), field=field)
    return found


def place(session: Session, place_id: int) -> Place:
    found = session.get(Place, place_id)
    if found is None:
        raise NotFound(N_("No such place"), field="place_id")
    return found


def place_or_none(session: Session, place_id: int) -> Place | None:
    """A place by its id, or None (a published read: `places.place`)."""
    return session.get(Place, place_id) if isinstance(place_id, int) and 0 < place_id < 2**63 else None


def place_by_key(session: Session, key: str) -> Place | None:
    """A place by its stable key (the pack's id), or None (a published read: `places.place_by_key`)."""
    return session.scalar(select(Place).where(Place.key == key))


def place_values(*, key: str, name_zh: str, name_en: str | None, category: str, region_code: str | None,
                 address: str | None, phone: str | None, latitude: float, longitude: float, datum: str,
                 hours: Mapping[str, Any], services: Sequence[str], accessibility: Sequence[str],
                 items: Sequence[str], source: str, demo: bool) -> dict[str, Any]:
    """A place's column values: the point converted to the stored datum and its grid cell."""
    if not (-90 <= latitude <= 90):
        raise Invalid(N_("The latitude must be between -90 and 90"), field="latitude")
    if not (-180 <= longitude <= 180):
        raise Invalid(N_("The longitude must be between -180 and 180"), field="longitude")
    if datum not in geo.DATUMS:
        raise Invalid(N_("The datum is wgs84 or gcj02"), field="datum")
    lat, lon = geo.to_stored(datum, latitude, longitude)
    lat, lon = round(lat, 7), round(lon, 7)
    for a in accessibility:
        if a not in ACCESSIBILITY:
            raise Invalid(N_("Unknown accessibility feature"), field="accessibility")
    return {"key": key, "name_zh": name_zh, "name_en": name_en, "category": category, "region_code": region_code,
            "address": address, "phone": phone, "latitude": lat, "longitude": lon, "cell": geo.cell_key(lat, lon),
            "hours": dict(hours), "services": list(services), "accessibility": list(accessibility),
            "items": list(items), "source": source, "demo": demo}


def upsert(session: Session, values: Mapping[str, Any]) -> str:
    """Create or update the place with `values["key"]`: "created", "updated" or "unchanged"."""
    row = session.scalar(select(Place).where(Place.key == values["key"]))
    if row is None:
        session.add(Place(**values))
        return "created"
    if all(getattr(row, k) == v for k, v in values.items()):
        return "unchanged"
    for k, v in values.items():
        setattr(row, k, v)
    return "updated"


# --- near me --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Near:
    place: Place
    distance_m: float


def check_query(lat: float, lon: float, radius_m: float) -> None:
    if not (-90 <= lat <= 90):
        raise Invalid(N_("The latitude must be between -90 and 90"), field="lat")
    if not (-180 <= lon <= 180):
        raise Invalid(N_("The longitude must be between -180 and 180"), field="lon")
    if not (0 < radius_m <= MAX_RADIUS_M):
        raise Invalid(N_("The radius must be more than 0 and at most 50 000 metres"), field="radius_m")


def near(session: Session, *, lat: float, lon: float, radius_m: float, category: str | None = None,
         limit: int = 20, cell_deg: float = geo.CELL_DEG) -> list[Near]:
    """Places within `radius_m` (great-circle metres, inclusive) of (lat, lon) in WGS-84, nearest
    first, ties by id; `category` narrows them. The grid cells make the SQL; the distance decides.
    (`cell_deg`: the benchmark's comparison of cell sizes, over keys it re-made.)"""
    check_query(lat, lon, radius_m)
    if category is not None:
        category_that_exists(session, category)
    limit = max(1, min(limit, MAX_RESULTS))
    ranges = geo.cell_ranges(lat, lon, radius_m, cell_deg)
    lo_lat, hi_lat, lo_lon, hi_lon = geo.bounding_box(lat, lon, radius_m)
    stmt = select(Place.id, Place.latitude, Place.longitude).where(
        or_(*(Place.cell.between(a, b) for a, b in ranges)), Place.latitude.between(lo_lat, hi_lat))
    if lo_lon >= -180 and hi_lon <= 180:  # (a circle over the antimeridian: the cells alone)
        stmt = stmt.where(Place.longitude.between(lo_lon, hi_lon))
    if category is not None:
        stmt = stmt.where(Place.category == category)
    hits = [(d, pid) for pid, plat, plon in session.execute(stmt)
            if (d := geo.haversine_m(lat, lon, plat, plon)) <= radius_m]
    hits.sort()
    top = hits[:limit]
    rows = {p.id: p for p in session.scalars(select(Place).where(Place.id.in_([pid for _d, pid in top])))}
    return [Near(rows[pid], d) for d, pid in top]


def near_brute_force(session: Session, *, lat: float, lon: float, radius_m: float, category: str | None = None,
                     limit: int = 20) -> list[tuple[int, float]]:
    """The yardstick: every place's distance, no index (tests and `tongban bench places`)."""
    stmt = select(Place.id, Place.latitude, Place.longitude)
    if category is not None:
        stmt = stmt.where(Place.category == category)
    out = [(pid, d) for pid, plat, plon in session.execute(stmt)
           if (d := geo.haversine_m(lat, lon, plat, plon)) <= radius_m]
    out.sort(key=lambda t: (t[1], t[0]))
    return out[:limit]
