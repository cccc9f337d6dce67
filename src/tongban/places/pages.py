"""Places pages: near-me search (phone-sized, public, works without JavaScript; htmx swaps the
results in place), one place's page, and the offline map (ECharts, no tiles; its script, ECharts and the layers load
after first paint)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from tongban.core import clock, geo, slices
from tongban.core.errors import Invalid, NotFound
from tongban.core.i18n import N_, gettext, pick
from tongban.core.identity.models import Region
from tongban.core.workdays import calendar
from tongban.places import service
from tongban.places.models import PlaceCategory
from tongban.registry import reads
from tongban.webkit.deps import DbSession, PagePrincipal
from tongban.webkit.templating import render

router = APIRouter(include_in_schema=False)

RADII = (500, 1000, 2000, 5000)
ACCESSIBILITY_LABELS = {
    "wheelchair": N_("Wheelchair access"), "accessible_toilet": N_("Accessible toilet"),
    "priority_window": N_("Priority window"), "hearing_loop": N_("Hearing loop"),
    "braille": N_("Braille signs"), "guide_dog": N_("Guide dogs welcome"),
}


def _communities(session: DbSession) -> list[dict[str, Any]]:
    """The "where I am" choices: communities with a centre on the map."""
    shapes = reads.shapes(session)
    rows = session.scalars(select(Region).where(Region.code.in_(list(shapes.centres))).order_by(Region.code))
    return [{"code": r.code, "name": pick({"zh": r.name_zh, "en": r.name_en}),
             "lon": shapes.centres[r.code][0], "lat": shapes.centres[r.code][1]} for r in rows]


PLACE_ACTIONS = "places.place_actions"


def place_actions(session: DbSession, place_id: int) -> list[slices.Link]:
    """What other slices offer at a place (the extension point `places.place_actions`: callables
    `(session, place_id) -> Link | None`), e.g. booking a time at its windows."""
    found = (action(session, place_id) for action in slices.contributed(PLACE_ACTIONS))
    return [link for link in found if link is not None]


def _float(value: str | None, field: str) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise Invalid(N_("Enter a number"), field=field) from None


@router.get("/places/near")
def near_page(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    """附近: the places near a community's centre or a point, by category and radius."""
    q = request.query_params
    cats = service.categories(session)
    communities = _communities(session)
    chosen = {"category": q.get("category") or "", "community": q.get("community") or "",
              "radius_m": q.get("radius_m") or "1000", "lat": q.get("lat") or "", "lon": q.get("lon") or ""}
    error: str | None = None
    results: list[dict[str, Any]] | None = None
    try:
        radius = _float(chosen["radius_m"], "radius_m") or 1000.0
        lat, lon = _float(chosen["lat"], "lat"), _float(chosen["lon"], "lon")
        if (lat is None or lon is None) and chosen["community"]:
            c = next((c for c in communities if c["code"] == chosen["community"]), None)
            if c is None:
                raise Invalid(N_("Choose a community from the list"), field="community")
            lat, lon = c["lat"], c["lon"]
        if lat is not None and lon is not None:
            found = service.near(session, lat=lat, lon=lon, radius_m=radius, category=chosen["category"] or None,
                                 limit=50)
            cal, at = calendar(session), clock.now()
            titles = {c.code: pick({"zh": c.title_zh, "en": c.title_en}) for c in cats}
            results = []
            for n in found:
                p, state = n.place, service.open_state(n.place.hours, at, cal)
                results.append({"id": p.id, "name": pick({"zh": p.name_zh, "en": p.name_en or p.name_zh}),
                                "category": titles.get(p.category, p.category), "address": p.address,
                                "phone": p.phone, "distance_m": round(n.distance_m), "open_now": state.open_now,
                                "today": state.today, "holiday": state.holiday,
                                "services": p.services, "item_ids": p.items, "demo": p.demo,
                                "actions": place_actions(session, p.id),
                                "accessibility": [gettext(ACCESSIBILITY_LABELS.get(a, a)) for a in p.accessibility]})
    except Invalid as exc:
        error = gettext(exc.message)
        results = None
    context = {"categories": [{"code": c.code, "title": pick({"zh": c.title_zh, "en": c.title_en})} for c in cats],
               "communities": communities, "radii": RADII, "chosen": chosen, "results": results, "error": error,
               "error_field": None}
    partial = request.headers.get("HX-Request") == "true"
    return render(request, "places/_results.html" if partial else "places/near.html", context,
                  status_code=422 if error and not partial else 200)


@router.get("/places/{place_id:int}")
def place_page(request: Request, session: DbSession, principal: PagePrincipal, place_id: int) -> Response:
    """One place: where it is, when it opens today and this week, and what can be done there."""
    p = service.place_or_none(session, place_id)
    if p is None:
        raise NotFound(N_("No such place"), field="place_id")
    cat = session.get(PlaceCategory, p.category)
    state = service.open_state(p.hours, clock.now(), calendar(session))
    weekly = p.hours.get("weekly", {})
    return render(request, "places/place.html", {
        "p": {"id": p.id, "name": pick({"zh": p.name_zh, "en": p.name_en or p.name_zh}),
              "category": pick({"zh": cat.title_zh, "en": cat.title_en}) if cat else p.category,
              "address": p.address, "phone": p.phone, "open_now": state.open_now, "today": state.today,
              "holiday": state.holiday, "services": p.services, "demo": p.demo,
              "accessibility": [gettext(ACCESSIBILITY_LABELS.get(a, a)) for a in p.accessibility]},
        "week": [(d, weekly.get(d, [])) for d in service.DAYS], "actions": place_actions(session, p.id)})


@router.get("/places/map")
def map_page(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    """一张图: boundaries, places and the service circle, drawn offline (no map tiles)."""
    cats = service.categories(session)
    return render(request, "places/map.html", {
        "categories": [{"code": c.code, "title": pick({"zh": c.title_zh, "en": c.title_en}),
                        "walking_radius_m": c.walking_radius_m} for c in cats],
        "demo": bool(reads.shapes(session).demo), "datum": "WGS-84",
        "cell_deg": geo.CELL_DEG})
