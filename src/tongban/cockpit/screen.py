"""The cockpit's one screen (驾驶舱大屏): one indicator over one region — its figure, its children's
figures (what the map is coloured by and the ranked bars show), the trail back up to the caller's
top region, and its trend by month — all of the indicator's dimensions summed over.

The caller's scope decides where they may look (`figures.scope_of`); small counts are suppressed
over the whole region tree, as `figures.table` does, so a drill-down and the level above hide the
same areas (nothing can be worked back by subtraction across two views)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select

from tongban.cockpit import figures, store
from tongban.cockpit.models import ALL_DEPARTMENTS, CockpitCell, CockpitRollup, CockpitState
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


@dataclass
class _Ask:
    """A screen request, checked: the indicator, the region and its levels, the period."""

    ind: Indicator
    department: str | None
    top: str
    region: str
    level: str
    at: int
    child_level: str | None
    period: figures.Period
    threshold: int


@dataclass(frozen=True)
class Place:
    """Where a screen (or its map) looks: the caller's top region, the region shown (checked: it
    exists and the caller may look there), its level and its children's (None: a community)."""

    top: str
    region: str
    level: str
    at: int
    child_level: str | None


def place(session, principal: access.Principal, region: str | None) -> Place:  # type: ignore[no-untyped-def]
    """`region` (default: the caller's top region), checked for the caller."""
    top = top_region(session, principal)
    region = region or top
    if session.get(Region, region) is None:
        raise Invalid(N_("Unknown region"), field="region")
    if not access.in_subtree(region, top):
        access.require_region(principal, region)
    level = access.region_level(region)
    at = figures.LEVELS.index(level)
    return Place(top, region, level, at, figures.LEVELS[at + 1] if at + 1 < len(figures.LEVELS) else None)


def _ask(session, principal: access.Principal, key: str, region: str | None,  # type: ignore[no-untyped-def]
         day_from: dt.date | None, day_to: dt.date | None) -> _Ask:
    scope = figures.scope_of(principal)
    ind = figures.indicator(key, scope)
    where = place(session, principal, region)
    top, region, level, at, child_level = where.top, where.region, where.level, where.at, where.child_level
    p = figures.period(ind, day_from, day_to)
    threshold = int(store.settings(session)["min_count"])
    return _Ask(ind, scope.department, top, region, level, at, child_level, p, threshold)


def _point(ind: Indicator, first: dt.date, month: Mapping[str, float] | None, threshold: int) -> Point:
    small = ind.subjects is not None and month is not None and 0 < round(month[ind.subjects]) < threshold
    value = None if small else figures.shown(ind, month)
    return Point(f"{first:%Y-%m}", value, "—" if small else figures.formatted(ind, value), small)


def _area(ind: Indicator, node: str, names: Mapping[str, str], sums: Mapping[str, dict[str, float]],
          hidden: set[str], has_children: bool) -> Area:
    code = node.rstrip(figures.REMAINDER)
    lv = access.region_level(code)
    name = names.get(code, code)
    if node.endswith(figures.REMAINDER):
        from tongban.core.i18n import gettext

        name = gettext("%(region)s (not broken down)") % {"region": name}
    suppressed = node in hidden
    value = None if suppressed else figures.shown(ind, sums.get(node))
    return Area(node, name, lv, value, "—" if suppressed else figures.formatted(ind, value), suppressed,
                has_children)


def screen(session, principal: access.Principal, key: str, *, region: str | None = None,  # type: ignore[no-untyped-def]
           day_from: dt.date | None = None, day_to: dt.date | None = None) -> Screen:
    """What `principal` sees of indicator `key` over `region` (default: their top region) and the
    period (default: the last 30 days; a stock: the last snapshot), with the children of `region`
    one level down and the trend of the last twelve months.

    Read from the store's rollup (a few rows per region node and day); the same figures as
    `reference`, which computes them from the cells (and stands in while an indicator's rollup is
    not complete)."""
    a = _ask(session, principal, key, region, day_from, day_to)
    ind, p = a.ind, a.period
    state = session.get(CockpitState, ind.key)
    if state is None or not state.rollup:
        return reference(session, principal, key, region=region, day_from=day_from, day_to=day_to)
    dept = a.department or ALL_DEPARTMENTS
    sums = _tree_sums(session, ind, p, dept)
    hidden = _hidden(ind, sums, a.threshold)
    codes = {n for n in sums if not n.endswith(figures.REMAINDER)}
    parents = {x for n in codes for x in store.nodes_of(n) if x != n and not x.endswith(figures.REMAINDER)}
    trail_codes = [c for c in (figures.ancestor(a.region, lv) for lv in figures.LEVELS[:a.at + 1])
                   if c is not None and access.in_subtree(c, a.top)]
    child_nodes: list[str] = []
    if a.child_level is not None:
        for node in sorted(sums):
            code = node.rstrip(figures.REMAINDER)
            if node.endswith(figures.REMAINDER):
                if code == a.region:
                    child_nodes.append(node)
            elif code != a.region and access.region_level(code) == a.child_level and access.in_subtree(code, a.region):
                child_nodes.append(node)
    names = figures._names(session, {a.region, *trail_codes, *(n.rstrip(figures.REMAINDER) for n in child_nodes),
                                     *(figures.ancestor(a.region, lv) or a.region for lv in figures.LEVELS[:a.at + 1])})

    def area(node: str) -> Area:
        drillable = (not node.endswith(figures.REMAINDER) and access.region_level(node) != "community"
                     and node in parents)
        return _area(ind, node, names, sums, hidden, drillable)

    trail = [(c, names.get(c, c)) for c in trail_codes]
    trend = [_point(ind, first, month, a.threshold) for first, month in _trend(session, ind, a.region, p, dept)]
    return Screen(ind, a.region, a.level, a.child_level, p, state.refreshed_at, area(a.region),
                  [area(n) for n in child_nodes], trail, trend, a.threshold, a.department)


_M = (CockpitRollup.m0, CockpitRollup.m1, CockpitRollup.m2, CockpitRollup.m3, CockpitRollup.m4, CockpitRollup.m5)


def _measures(ind: Indicator, values: Sequence[float | None]) -> dict[str, float]:
    return {m: float(v or 0.0) for m, v in zip(ind.measures, values, strict=False)}


def _last_day(session, ind: Indicator, day_from: dt.date, day_to: dt.date) -> dt.date | None:  # type: ignore[no-untyped-def]
    """A stock's snapshot of a period: its last day with any cell (whoever looks, as the cells say)."""
    return session.scalar(select(func.max(CockpitCell.day)).where(  # type: ignore[no-any-return]
        CockpitCell.indicator == ind.key, CockpitCell.day <= day_to, CockpitCell.day >= day_from))


def _days(session, ind: Indicator, p: figures.Period) -> tuple[dt.date, dt.date] | None:  # type: ignore[no-untyped-def]
    if ind.kind != "stock":
        return p.day_from, p.day_to
    last = _last_day(session, ind, p.day_from, p.day_to)
    return None if last is None else (last, last)


def _tree_sums(session, ind: Indicator, p: figures.Period, dept: str) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    """The period's sums of every node of the region tree (the regions of the Region table and the
    regions cells are placed at, zero where nothing; `<code>~` where cells are placed above the
    communities), as `figures._tree` collapsed over the keys gives them."""
    days = _days(session, ind, p)
    found: dict[str, tuple[int, dict[str, float]]] = {}
    if days is not None:
        q = (select(CockpitRollup.node, func.sum(CockpitRollup.cells), *(func.sum(c) for c in _M[:len(ind.measures)]))
             .where(CockpitRollup.indicator == ind.key, CockpitRollup.department == dept,
                    CockpitRollup.day >= days[0], CockpitRollup.day <= days[1])
             .group_by(CockpitRollup.node))
        found = {node: (int(n or 0), _measures(ind, rest)) for node, n, *rest in session.execute(q)}
    if not found and ind.dimensions:
        return {}  # no cell: no key, so no node at all
    # the cells' own regions: a community with cells, a region with `<code>~`
    placed = {n.rstrip(figures.REMAINDER) for n in found
              if n.endswith(figures.REMAINDER) or access.region_level(n) == "community"}
    codes = set(session.scalars(select(Region.code))) | placed
    zero = dict.fromkeys(ind.measures, 0.0)
    out = {c: dict(found[c][1]) if c in found else dict(zero) for c in codes}
    out.update({n: v for n, (_k, v) in found.items() if n.endswith(figures.REMAINDER)})
    return out


def _trend(session, ind: Indicator, region: str, p: figures.Period,  # type: ignore[no-untyped-def]
           dept: str) -> list[tuple[dt.date, dict[str, float] | None]]:
    """The region's sums per month of the trend (None: no cell under it that month, and the
    indicator has dimensions — as `figures._tree` leaves such a region out)."""
    months = _months(p.day_to, TREND_MONTHS)
    if ind.kind == "stock":
        snapshot = {first: _last_day(session, ind, first, last) for first, last in months}
        wanted = sorted({d for d in snapshot.values() if d is not None})
        by_day: dict[dt.date, dict[str, float]] = {}
        if wanted:
            q = (select(CockpitRollup.day, *_M[:len(ind.measures)])
                 .where(CockpitRollup.indicator == ind.key, CockpitRollup.department == dept,
                        CockpitRollup.node == region, CockpitRollup.day.in_(wanted)))
            by_day = {day: _measures(ind, rest) for day, *rest in session.execute(q)}
        sums: dict[dt.date, dict[str, float]] = {
            first: by_day[d] for first, d in snapshot.items() if d is not None and d in by_day}
    else:
        q = (select(CockpitRollup.day, *_M[:len(ind.measures)])
             .where(CockpitRollup.indicator == ind.key, CockpitRollup.department == dept,
                    CockpitRollup.node == region, CockpitRollup.day >= months[0][0],
                    CockpitRollup.day <= p.day_to))
        sums = {}
        for day, *rest in session.execute(q):
            slot = sums.setdefault(day.replace(day=1), dict.fromkeys(ind.measures, 0.0))
            for m, v in _measures(ind, rest).items():
                slot[m] += v
    zero = None if ind.dimensions else dict.fromkeys(ind.measures, 0.0)
    return [(first, sums.get(first, zero)) for first, _last in months]


def reference(session, principal: access.Principal, key: str, *, region: str | None = None,  # type: ignore[no-untyped-def]
              day_from: dt.date | None = None, day_to: dt.date | None = None) -> Screen:
    """`screen` computed straight from the cells (`figures._tree` over the whole tree, and one
    tree per month of the trend): slow at scale, kept as the reference `screen` is tested against
    and used while an indicator's rollup is not complete."""
    a = _ask(session, principal, key, region, day_from, day_to)
    ind, p, region_ = a.ind, a.period, a.region
    nodes, _codes = figures._tree(session, None, ind, p, department=a.department)
    sums = _collapse(ind, nodes)
    hidden = _hidden(ind, sums, a.threshold)
    names = figures._names(session, {region_} | {n.rstrip(figures.REMAINDER) for n in sums
                                                  if access.in_subtree(n.rstrip(figures.REMAINDER), region_)}
                           | {figures.ancestor(region_, lv) or region_ for lv in figures.LEVELS[:a.at + 1]})

    def area(node: str) -> Area:
        code = node.rstrip(figures.REMAINDER)
        has_children = not node.endswith(figures.REMAINDER) and access.region_level(code) != "community" and any(
            access.in_subtree(n, code) and n != code and not n.endswith(figures.REMAINDER) for n in sums)
        return _area(ind, node, names, sums, hidden, has_children)

    children: list[Area] = []
    if a.child_level is not None:
        for node in sorted(sums):
            code = node.rstrip(figures.REMAINDER)
            if not access.in_subtree(code, region_) or code == region_ and not node.endswith(figures.REMAINDER):
                continue
            if node.endswith(figures.REMAINDER):
                if code == region_:
                    children.append(area(node))
            elif access.region_level(code) == a.child_level:
                children.append(area(node))
    trail = [(c, names.get(c, c)) for c in (figures.ancestor(region_, lv) for lv in figures.LEVELS[:a.at + 1])
             if c is not None and access.in_subtree(c, a.top)]
    trend: list[Point] = []
    for first, last in _months(p.day_to, TREND_MONTHS):
        month_nodes, _ = figures._tree(session, region_, ind, figures.Period(first, last), department=a.department)
        trend.append(_point(ind, first, _collapse(ind, month_nodes).get(region_), a.threshold))
    state = session.get(CockpitState, ind.key)
    return Screen(ind, region_, a.level, a.child_level, p, state.refreshed_at if state else None, area(region_),
                  children, trail, trend, a.threshold, a.department)


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
