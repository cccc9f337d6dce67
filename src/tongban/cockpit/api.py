"""Cockpit API (/api/v1/cockpit…): the indicators the caller may see, one indicator's table by
region level and period (scoped, suppressed), its CSV and XLSX exports (audited), the warnings."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tongban.cockpit import export as exports
from tongban.cockpit import figures, maps, screen, store, warnings
from tongban.core.i18n import gettext
from tongban.core.ids import Id
from tongban.webkit.deps import CurrentPrincipal, DbSession, needs
from tongban.webkit.schemas import refusals

router = APIRouter(tags=["cockpit"])
VIEW = ("cockpit.view", figures.REGION_PERMISSION, figures.DEPARTMENT_PERMISSION)
Level = Literal["province", "city", "county", "street", "community"]


class IndicatorOut(BaseModel):
    key: str
    label: str
    definition: str
    show: str
    kind: str
    unit: str
    dimensions: list[str]
    measures: list[str]
    suppressed_below: int | None
    as_of: dt.datetime | None


@router.get("/cockpit/indicators", response_model=list[IndicatorOut], dependencies=[needs(*VIEW)])
def list_indicators(session: DbSession, principal: CurrentPrincipal) -> list[IndicatorOut]:
    """The indicators the caller may see (a department head: those with a department dimension),
    each with its as-of time (when its figures were last refreshed)."""
    scope = figures.scope_of(principal)
    as_of = store.as_of(session)
    threshold = int(store.settings(session)["min_count"])
    return [IndicatorOut(key=i.key, label=gettext(i.label), definition=gettext(i.definition), show=i.show,
                         kind=i.kind, unit=gettext(i.unit) if i.unit else "", dimensions=list(i.dimensions),
                         measures=list(i.measures), suppressed_below=threshold if i.subjects else None,
                         as_of=as_of.get(i.key))
            for i in figures.visible(scope).values()]


@router.get("/cockpit/indicators/{key}", dependencies=[needs(*VIEW)])
def indicator_table(key: str, session: DbSession, principal: CurrentPrincipal, level: Level | None = None,
                    region: str | None = Query(None, max_length=12, pattern=r"^\d{6}(\d{3}){0,2}$"),
                    from_: dt.date | None = Query(None, alias="from"),
                    to: dt.date | None = None) -> dict[str, Any]:
    """One indicator's table: rows at `level` under `region` over the days `from`–`to` (a stock:
    the snapshot of `to`), with the region's total. Suppressed cells carry no figure."""
    t = figures.table(session, principal, key, level=level, region=region, day_from=from_, day_to=to)
    return figures.as_dict(t)


@router.get("/cockpit/indicators/{key}/export.{fmt}", dependencies=[needs(*VIEW)],
            response_class=Response, responses={200: {"content": {m: {} for m in exports.FORMATS.values()}}})
def indicator_export(key: str, fmt: Literal["csv", "xlsx"], session: DbSession, principal: CurrentPrincipal,
                     level: Level | None = None,
                     region: str | None = Query(None, max_length=12, pattern=r"^\d{6}(\d{3}){0,2}$"),
                     from_: dt.date | None = Query(None, alias="from"), to: dt.date | None = None) -> Response:
    """The same table as a CSV or XLSX file; every export is recorded in the audit chain."""
    out = exports.export(session, principal, key, fmt, level=level, region=region, day_from=from_, day_to=to)
    return Response(out.content, media_type=out.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{out.filename}"',
                             "Cache-Control": "no-store"})


@router.get("/cockpit/screen/{key}", dependencies=[needs(*VIEW)])
def indicator_screen(key: str, session: DbSession, principal: CurrentPrincipal,
                     region: str | None = Query(None, max_length=12, pattern=r"^\d{6}(\d{3}){0,2}$"),
                     from_: dt.date | None = Query(None, alias="from"),
                     to: dt.date | None = None) -> dict[str, Any]:
    """The one screen's figures of an indicator over `region` (default: the caller's top region):
    its total, its children one level down (what the map is coloured by), the trail back up and
    the trend of the last twelve months. Suppressed areas and months carry no figure."""
    return screen.as_dict(screen.screen(session, principal, key, region=region, day_from=from_, day_to=to))


@router.get("/cockpit/map/{region}", dependencies=[needs(*VIEW)])
def region_map(session: DbSession, principal: CurrentPrincipal,
               region: str = Path(max_length=12, pattern=r"^\d{6}(\d{3}){0,2}$")) -> dict[str, Any]:
    """The map of the one screen: `region`'s children one level down as a GeoJSON
    FeatureCollection (districts from the pack's outlines; a street as its communities' cells, a
    community as its cell), each feature with code, name, level and `demo` (invented shapes). A
    level without shapes gives no features (the screen shows ranked bars only)."""
    return maps.region_map(session, principal, region)


# A warning as the API shows it is `warnings.Shown` itself (FastAPI validates and documents a
# dataclass as it does a model): one list of fields, so the page and the API cannot drift apart.
WarningOut = warnings.Shown


@router.get("/cockpit/warnings", response_model=list[WarningOut], dependencies=[needs(*VIEW)])
def list_warnings(session: DbSession, principal: CurrentPrincipal) -> list[WarningOut]:
    """The early warnings of the last refresh in the caller's scope, each naming who can act and,
    once a 督办 was raised from it, the case (`supervised_case`) while that case is open. A
    warning's `id` lasts until the next refresh."""
    return warnings.visible(session, principal)


class SuperviseIn(BaseModel):
    note: str = Field(max_length=2000)  # the engine refuses more than 500 with the field named
    # The department the caller saw the warning name: refused (409) if the id names another now.
    department_id: str | None = Field(None, max_length=64)


class SupervisionOut(BaseModel):
    id: int
    warning_id: int
    rule: str
    region: str
    department_id: str
    case_id: int
    supervised_by: str
    supervised_at: dt.datetime


@router.post("/cockpit/warnings/{warning_id}/supervise", status_code=201, response_model=SupervisionOut,
             dependencies=[needs(*VIEW)],
             responses=refusals({403: "Not a leader of the warning's region, or the caller's own department",
                                 409: "A warning no longer raised (ids last until the next refresh), one naming "
                                      "a role, or one whose 督办 case is still open (`case` named)",
                                 422: "A `note` missing, of one character, or over 500"}))
def supervise_warning(warning_id: Id, body: SuperviseIn, session: DbSession,
                      principal: CurrentPrincipal) -> SupervisionOut:
    """督办 from a warning: the case engine files a 督办事项 case for the department the warning
    names, puts it in its hands and supervises it — the message lands in the department's queue
    and its head's and the region's 督查室's inboxes. 201 with the case's id."""
    row = warnings.supervise(session, principal=principal, warning_id=warning_id, note=body.note,
                             department_id=body.department_id)
    return SupervisionOut(id=row.id, warning_id=warning_id, rule=row.rule, region=row.region,
                          department_id=row.department_id, case_id=row.case_id, supervised_by=row.supervised_by,
                          supervised_at=row.supervised_at)
