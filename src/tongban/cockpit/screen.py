"""The cockpit's one screen (驾驶舱大屏): one indicator over one region — its figure, its children's
figures (what the map is coloured by and the ranked bars show), the trail back up to the caller's
top region, and its trend by month — all of the indicator's dimensions summed over.

The caller's scope decides where they may look (`figures.scope_of`); small counts are suppressed
over the whole region tree, as `figures.table` does, so a drill-down and the level above hide the
same areas (nothing can be worked back by subtraction across two views)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from tongban.cockpit import figures, store
from tongban.cockpit.models import CockpitState
from tongban.core import access
from tongban.core.errors import Invalid
from tongban.core.i18n import N_
from tongban.core.identity.models import Region
from tongban.core.indicators import Indicator
from tongban.datahub import release

TREND_MONTHS = 12


@dataclass
class Area:
    """One region on the screen: its figure (None: suppressed or undefined), shown as text."""

    code: str  # a region code, or `<code>~`: a region's own figures not broken down below it
    name: str
    level: str
    value: float | None
    shown: str
    suppressed: bool
    drillable: bool  # has children to drill into


@dataclass
class Point:
    """One month of the trend (a flow: its days summed; a stock: its last snapshot)."""

    month: str  # YYYY-MM
    value: float | None
    shown: str
    suppressed: bool


@dataclass
class Screen:
    indicator: Indicator
    region: str
    level: str
    child_level: str | None
    period: figures.Period
    as_of: dt.datetime | None
    total: Area
    children: list[Area]
    trail: list[tuple[str, str]]  # (code, name) from the caller's top region down to this one
    trend: list[Point] = field(default_factory=list)
    min_count: int = 10
    department: str | None = None


def _collapse(ind: Indicator, nodes: Mapping[tuple[str, tuple[str, ...]], dict[str, float]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for (node, _key), measures in nodes.items():
        slot = out.setdefault(node, dict.fromkeys(ind.measures, 0.0))
        for m in ind.measures:
            slot[m] += measures[m]
    return out


def _hidden(ind: Indicator, sums: Mapping[str, dict[str, float]], threshold: int) -> set[str]:
    if ind.subjects is None:
        return set()
    subjects = ind.subjects
    return {node for node, n in release.suppress({k: round(v[subjects]) for k, v in sums.items()},
                                                 threshold=threshold).items() if n is None}


def top_region(session, principal: access.Principal) -> str:  # type: ignore[no-untyped-def]
    """Where the caller's screen opens: their region, or the top of the tree."""
    region = figures.scope_of(principal).region or figures.root_region(session)
    if region is None:
        from tongban.core.errors import NotFound

        raise NotFound(N_("No regions are loaded"), field="region")
    return region


def _months(day_to: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    """The `count` calendar months ending with `day_to`'s (the last one up to `day_to`)."""
    out: list[tuple[dt.date, dt.date]] = []
    first = day_to.replace(day=1)
    end = day_to
    for _ in range(count):
        out.append((first, end))
        end = first - dt.timedelta(days=1)
        first = end.replace(day=1)
    return out[::-1]


def screen(session, principal: access.Principal, key: str, *, region: str | None = None,  # type: ignore[no-untyped-def]
           day_from: dt.date | None = None, day_to: dt.date | None = None) -> Screen:
    """What `principal` sees of indicator `key` over `region` (default: their top region) and the
    period (default: the last 30 days; a stock: the last snapshot), with the children of `region`
    one level down and the trend of the last twelve months."""
    scope = figures.scope_of(principal)
    ind = figures.indicator(key, scope)
    top = top_region(session, principal)
    region = region or top
    if session.get(Region, region) is None:
        raise Invalid(N_("Unknown region"), field="region")
    if not access.in_subtree(region, top):
        access.require_region(principal, region)
    level = access.region_level(region)
    at = figures.LEVELS.index(level)
    child_level = figures.LEVELS[at + 1] if at + 1 < len(figures.LEVELS) else None
    p = figures.period(ind, day_from, day_to)
    threshold = int(store.settings(session)["min_count"])
    nodes, _codes = figures._tree(session, None, ind, p, department=scope.department)
    sums = _collapse(ind, nodes)
    hidden = _hidden(ind, sums, threshold)
    names = figures._names(session, {region} | {n.rstrip(figures.REMAINDER) for n in sums
                                                 if access.in_subtree(n.rstrip(figures.REMAINDER), region)}
                           | {figures.ancestor(region, lv) or region for lv in figures.LEVELS[:at + 1]})

    def area(node: str) -> Area:
        code = node.rstrip(figures.REMAINDER)
        lv = access.region_level(code)
        name = names.get(code, code)
        if node.endswith(figures.REMAINDER):
            from tongban.core.i18n import gettext

            name = gettext("%(region)s (not broken down)") % {"region": name}
        measures = sums.get(node)
        suppressed = node in hidden
        value = None if suppressed else figures.shown(ind, measures)
        has_children = not node.endswith(figures.REMAINDER) and lv != "community" and any(
            access.in_subtree(n, code) and n != code and not n.endswith(figures.REMAINDER) for n in sums)
        return Area(node, name, lv, value, "—" if suppressed else figures.formatted(ind, value), suppressed,
                    has_children)

    children: list[Area] = []
    if child_level is not None:
        for node in sorted(sums):
            code = node.rstrip(figures.REMAINDER)
            if not access.in_subtree(code, region) or code == region and not node.endswith(figures.REMAINDER):
                continue
            if node.endswith(figures.REMAINDER):
                if code == region:
                    children.append(area(node))
            elif access.region_level(code) == child_level:
                children.append(area(node))
    trail = [(c, names.get(c, c)) for c in (figures.ancestor(region, lv) for lv in figures.LEVELS[:at + 1])
             if c is not None and access.in_subtree(c, top)]
    trend: list[Point] = []
    for first, last in _months(p.day_to, TREND_MONTHS):
        month_nodes, _ = figures._tree(session, region, ind, figures.Period(first, last), department=scope.department)
        month = _collapse(ind, month_nodes).get(region)
        small = (ind.subjects is not None and month is not None
                 and 0 < round(month[ind.subjects]) < threshold)
        value = None if small else figures.shown(ind, month)
        trend.append(Point(f"{first:%Y-%m}", value, "—" if small else figures.formatted(ind, value), small))
    state = session.get(CockpitState, ind.key)
    return Screen(ind, region, level, child_level, p, state.refreshed_at if state else None, area(region),
                  children, trail, trend, threshold, scope.department)


def as_dict(s: Screen) -> dict[str, object]:
    """The screen as the API returns it: a suppressed area or month carries no figure."""
    def one(a: Area) -> dict[str, object]:
        return {"code": a.code.rstrip(figures.REMAINDER), "name": a.name, "level": a.level,
                "not_broken_down": a.code.endswith(figures.REMAINDER), "value": a.value, "shown": a.shown,
                "suppressed": a.suppressed, "drillable": a.drillable}
    return {"indicator": s.indicator.key, "region": s.region, "level": s.level, "child_level": s.child_level,
            "from": s.period.day_from.isoformat(), "to": s.period.day_to.isoformat(),
            "as_of": s.as_of.isoformat() if s.as_of else None, "min_count": s.min_count,
            "department": s.department, "total": one(s.total), "children": [one(a) for a in s.children],
            "trail": [{"code": c, "name": n} for c, n in s.trail],
            "trend": [{"month": t.month, "value": t.value, "shown": t.shown, "suppressed": t.suppressed}
                      for t in s.trend]}
