"""Cockpit pages: `/cockpit` (the indicators the caller may see with their as-of times, and the
early warnings naming who can act) and one indicator's table by region level and period, with
buttons for its CSV and XLSX exports (the API's, audited)."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.cockpit import figures, maps, screen, store, warnings
from tongban.core import access
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_, gettext, pick
from tongban.core.identity.models import Department, Region, Role
from tongban.core.ids import Id
from tongban.core.indicators import Indicator
from tongban.core.slices import Link
from tongban.webkit.assets import asset
from tongban.webkit.deps import DbSession, SignedIn
from tongban.webkit.forms import PostedForm, form_text
from tongban.webkit.templating import render

router = APIRouter(include_in_schema=False)
REGION_CODE = re.compile(r"\d{6}(\d{3}){0,2}")

TILES = (Link("map", N_("Map"), N_("Public places and services on one map"), "/places/map"),)
COMPARISONS = {"above": N_("above"), "below": N_("below"), "fall": N_("fell by at least"),
               "rise": N_("rose by at least")}


def _date(value: str | None, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Invalid(N_("Enter a date as YYYY-MM-DD"), field=field) from None


def _profile(session: Session, principal: access.Principal) -> dict[str, object]:
    roles = session.scalars(select(Role).where(Role.id.in_(sorted(principal.roles)))).all() if principal.roles else []
    region = session.get(Region, principal.region_code) if principal.region_code else None
    dept = session.get(Department, principal.department_id) if principal.department_id else None
    return {"roles": [pick({"zh": r.name_zh, "en": r.name_en}) for r in sorted(roles, key=lambda r: r.id)],
            "region": pick({"zh": region.name_zh, "en": region.name_en}) if region else None,
            "department": pick({"zh": dept.name_zh, "en": dept.name_en}) if dept else None}


def _cockpit(request: Request, session: Session, principal: access.Principal, *, notice: str | None = None,
             error: str | None = None, error_warning: int | None = None, status_code: int = 200) -> Response:
    context: dict[str, object] = {**_profile(session, principal), "tiles": TILES, "indicators": [],
                                  "warnings": [], "scoped": False, "comparisons": COMPARISONS, "s": None,
                                  "notice": notice, "error": error, "error_warning": error_warning,
                                  "can_supervise": principal.has(figures.REGION_PERMISSION)}
    try:
        scope = figures.scope_of(principal)
    except access.Denied:
        # cockpit.view alone: the page, no figures
        return render(request, "cockpit/index.html", context, status_code=status_code)
    as_of = store.as_of(session)
    visible = figures.visible(scope)
    context.update(scoped=True, by_department=scope.department is not None,
                   indicators=[(i, as_of.get(i.key)) for i in visible.values()],
                   warnings=warnings.visible(session, principal))
    context.update(_screen(request, session, principal, visible))
    return render(request, "cockpit/index.html", context, status_code=status_code)


@router.get("/cockpit")
def cockpit(request: Request, session: DbSession, principal: SignedIn, supervised: str | None = None) -> Response:
    """The leaders' cockpit (驾驶舱): one screen of the caller's scope — an indicator over a region
    (`?indicator=&region=&from=&to=`, so Back and a shared link work): its map and ranked bars of
    the region's children, the trail back up, the trend, the early warnings and the indicators.
    After a 督办 (`?supervised=<case>`) it says so with the case's number."""
    access.require_any(principal, *figures_permissions())
    notice = None
    if supervised and supervised.isdigit() and warnings.supervised_by(session, principal, int(supervised)):
        notice = gettext("Supervised: case number %(case)s") % {"case": int(supervised)}
    return _cockpit(request, session, principal, notice=notice)


@router.post("/cockpit/warnings/{warning_id}/supervise")
def supervise(request: Request, session: DbSession, principal: SignedIn, warning_id: Id, form: PostedForm) -> Response:
    """督办 from a warning line: the note says what the department is asked to do. Back to the
    cockpit with the case's number, or the cockpit again with the refusal beside the warning."""
    access.require_any(principal, *figures_permissions())
    try:
        row = warnings.supervise(session, principal=principal, warning_id=warning_id, note=form_text(form, "note"),
                                 department_id=form_text(form, "department_id") or "")
    except (Invalid, Conflict) as exc:
        session.rollback()
        return _cockpit(request, session, principal, error=exc.translated(), error_warning=warning_id,
                        status_code=exc.status)
    return RedirectResponse(f"/cockpit?supervised={row.case_id}#warnings", status_code=303)


DEFAULT_INDICATOR = "services.on_time"
PREFERRED = (DEFAULT_INDICATOR, "services.applications", "ratings.good_rate", "cases.received", "registry.pyramid")


def _figured(s: screen.Screen) -> bool:
    """Whether a screen has a figure to colour its map with (not a grey map of nothing)."""
    return any(a.value is not None for a in (s.total, *s.children))


def _screen(request: Request, session: Session, principal: access.Principal,
            visible: dict[str, Indicator]) -> dict[str, object]:
    """The one screen's part of the page: the figures, the rows of the table (ranked), the links
    drilling down and back up, and the data its charts are drawn from."""
    params = request.query_params
    key, region = params.get("indicator") or "", params.get("region") or ""
    if region and not REGION_CODE.fullmatch(region):
        raise Invalid(N_("Unknown region"), field="region")
    day_from, day_to = _date(params.get("from"), "from"), _date(params.get("to"), "to")
    if not visible:
        return {}
    # asked for one: that; else the first (the preferred, then the others) that has figures here, so
    # a first look is not a grey map because, say, the on-time rate's counts are too small to show
    candidates = [key] if key else list(dict.fromkeys([k for k in PREFERRED if k in visible] + list(visible)))
    tried: list[screen.Screen] = []
    for chosen in candidates:
        try:
            tried.append(screen.screen(session, principal, chosen, region=region or None, day_from=day_from,
                                       day_to=day_to))
        except NotFound:
            if key or region:
                raise
            return {}  # no regions loaded: the page without a screen
        if _figured(tried[-1]):
            break
    s = tried[-1] if _figured(tried[-1]) else tried[0]  # none has figures here yet: the first, grey
    period = {k: v.isoformat() for k, v in (("from", day_from), ("to", day_to)) if v is not None}

    def href(code: str) -> str:
        return "/cockpit?" + urlencode({"indicator": s.indicator.key, "region": code, **period})

    ranked = sorted(s.children, key=lambda a: (a.value is None, -(a.value or 0.0), a.name))
    # a region with children below it drills into them; a community opens its own figure and trend
    rows = [(a, href(a.code) if a.drillable or (a.level == "community" and not a.code.endswith(figures.REMAINDER))
             else None) for a in ranked]
    has_shapes, demo_shapes = maps.coverage(session, s.region) if s.child_level else (False, False)
    data = screen.as_dict(s)
    # the charts' data: the children ranked, each with the link that drills into it
    data.update(children=[{"code": a.code.rstrip(figures.REMAINDER), "name": a.name, "value": a.value,
                            "shown": a.shown, "suppressed": a.suppressed, "href": link} for a, link in rows],
                map=f"/api/v1/cockpit/map/{s.region}" if has_shapes else None)
    return {"s": s, "ind": s.indicator, "rows": rows, "trail": [(name, href(code)) for code, name in s.trail],
            "has_shapes": has_shapes, "demo_shapes": demo_shapes, "screen_data": data,
            "child_level_label": figures.LEVEL_LABELS.get(s.child_level or "", ""),
            "choices": [(k, i.label) for k, i in visible.items()],
            "echarts_src": asset("vendor/echarts.min.js" if params.get("echarts") in ("full", "before")
                                 else "vendor/echarts-screen.js")}


def figures_permissions() -> tuple[str, ...]:
    return ("cockpit.view", figures.REGION_PERMISSION, figures.DEPARTMENT_PERMISSION)


@router.get("/cockpit/indicators/{key}")
def indicator_page(key: str, request: Request, session: DbSession, principal: SignedIn, level: str | None = None,
                   region: str | None = None) -> Response:
    """One indicator's table at a region level over a period, with its as-of time and exports."""
    params = request.query_params
    day_from, day_to = _date(params.get("from"), "from"), _date(params.get("to"), "to")
    t = figures.table(session, principal, key, level=level or None, region=region or None, day_from=day_from,
                      day_to=day_to)
    query = f"level={t.level}&region={t.region}&from={t.period.day_from}&to={t.period.day_to}"
    own = access.region_level(t.region or "")
    levels = [(lv, figures.LEVEL_LABELS[lv]) for lv in figures.LEVELS[figures.LEVELS.index(own):]]
    return render(request, "cockpit/indicator.html", {
        "t": t, "ind": t.indicator, "query": query, "levels": levels, "region_name": t.names.get(t.region or "", ""),
        "rows": [(r, figures.region_label(t, r), figures.key_labels(t, r),
                  None if r.suppressed else figures.formatted(t.indicator, figures.shown(t.indicator, r.measures)))
                 for r in (*t.total, *t.rows)],
        "total_count": len(t.total)})
