"""The figures the cockpit shows: an indicator's stored cells rolled up the region tree (GB/T 2260
prefixes) and across the days of a period, scoped to who is looking and suppressed where small.

`rollup` is the internal, unsuppressed view (the equality test reads it); `table` is what a caller
sees: scoped by `cockpit.region` (their region and below) or `cockpit.department` (their
department's cells only), through the data hub's aggregate basis (`datahub.release.suppress`:
small counts primary, complementary across the levels of the tree shown)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.cockpit import store
from tongban.cockpit.models import CockpitCell, CockpitState
from tongban.core import access, clock
from tongban.core.errors import Invalid, NotFound
from tongban.core.i18n import N_, gettext, pick
from tongban.core.identity.models import Department, Region
from tongban.core.indicators import Indicator
from tongban.datahub import release

LEVELS = ("province", "city", "county", "street", "community")
REGION_PERMISSION, DEPARTMENT_PERMISSION = access.COCKPIT_REGION, access.COCKPIT_DEPARTMENT
LEVEL_LABELS = {"province": N_("Province"), "city": N_("City"), "county": N_("District or county"),
                "street": N_("Street or town"), "community": N_("Community")}
REMAINDER = "~"  # a region's own cells beside its children's (a pseudo child in the equations)


def ancestor(code: str, level: str) -> str | None:
    """The region at `level` that `code` lies in; None when `code` is coarser than `level`."""
    if LEVELS.index(access.region_level(code)) < LEVELS.index(level):
        return None
    return {"province": code[:2] + "0000", "city": code[:4] + "00", "county": code[:6],
            "street": code[:9], "community": code[:12]}[level]


@dataclass(frozen=True)
class Scope:
    """What a caller may see: a region subtree (None: everywhere) and a department (None: all)."""

    region: str | None
    department: str | None = None


def scope_of(principal: access.Principal) -> Scope:
    """What the caller may see (`core.access.cockpit_scope`: fail closed)."""
    region, department = access.cockpit_scope(principal)
    return Scope(region, department)


def visible(scope: Scope) -> dict[str, Indicator]:
    """The indicators a scope may see: a department head only those with a department dimension."""
    return {k: i for k, i in store.indicators().items()
            if scope.department is None or "department" in i.dimensions}


def indicator(key: str, scope: Scope | None = None) -> Indicator:
    found = (visible(scope) if scope is not None else store.indicators()).get(key)
    if found is None:
        raise NotFound(N_("No such indicator"), field="key")
    return found


@dataclass
class Period:
    day_from: dt.date
    day_to: dt.date


def period(ind: Indicator, day_from: dt.date | None, day_to: dt.date | None) -> Period:
    """The days asked for: by default the last 30 days to today (a stock: today's snapshot)."""
    to = day_to or clock.today()
    start = day_from or (to if ind.kind == "stock" else to - dt.timedelta(days=29))
    if start > to:
        raise Invalid(N_("The period must start on or before its end"), field="from")
    if (to - start).days > 3660:
        raise Invalid(N_("The period is longer than ten years"), field="from")
    return Period(start, to)


def _cells(session: Session, ind: Indicator, p: Period, *, region: str | None,
           department: str | None) -> dict[tuple[str, tuple[str, ...]], dict[str, float]]:
    """The stored cells of the period, summed over its days (a stock: its last snapshot ≤ the end)."""
    q = select(CockpitCell.region, CockpitCell.key, CockpitCell.measures).where(CockpitCell.indicator == ind.key)
    if ind.kind == "stock":
        last = session.scalar(select(func.max(CockpitCell.day)).where(
            CockpitCell.indicator == ind.key, CockpitCell.day <= p.day_to, CockpitCell.day >= p.day_from))
        if last is None:
            return {}
        q = q.where(CockpitCell.day == last)
    else:
        q = q.where(CockpitCell.day >= p.day_from, CockpitCell.day <= p.day_to)
    if region is not None:
        q = q.where(access.within(CockpitCell.region, region))
    dept_at = ind.dimensions.index("department") if "department" in ind.dimensions else None
    out: dict[tuple[str, tuple[str, ...]], dict[str, float]] = {}
    for code, key_text, measures in session.execute(q):
        key = store.decode_key(key_text)
        if department is not None and (dept_at is None or key[dept_at] != department):
            continue
        slot = out.setdefault((code, key), dict.fromkeys(ind.measures, 0.0))
        for m in ind.measures:
            slot[m] += float(measures.get(m, 0) or 0)
    return out


@dataclass
class Row:
    region: str  # a region code, or `<code>~`: the region's own cells not broken down below it
    key: tuple[str, ...]
    measures: dict[str, float]
    suppressed: bool = False

    @property
    def code(self) -> str:
        return self.region.rstrip(REMAINDER)

    @property
    def remainder(self) -> bool:
        return self.region.endswith(REMAINDER)


def shown(ind: Indicator, measures: Mapping[str, float] | None) -> float | None:
    """The figure shown from a cell's sums: a count, a ratio (0–1) or a mean; None if undefined."""
    if measures is None:
        return None
    if ind.show == "count":
        return measures[ind.of[0]]
    den = measures[ind.of[1]]
    return measures[ind.of[0]] / den if den else None


def _tree(session: Session, root: str | None, ind: Indicator, p: Period, *,
          department: str | None) -> tuple[dict[tuple[str, tuple[str, ...]], dict[str, float]], list[str]]:
    """Every node of the tree under `root` (or the whole tree) for every key, with its sums: the
    regions of the Region table (zero where no cell) and `<code>~` for the cells placed at a region
    above the communities (its own, beside its children's). Returns the nodes and the region codes of the tree."""
    cells = _cells(session, ind, p, region=root, department=department)
    q = select(Region.code)
    if root is not None:
        q = q.where(access.within(Region.code, root))
    codes = set(session.scalars(q)) | {code for code, _k in cells}
    keys = {k for _c, k in cells} or ({()} if not ind.dimensions else set())
    nodes: dict[tuple[str, tuple[str, ...]], dict[str, float]] = {}
    for code in codes:
        for k in keys:
            nodes[(code, k)] = dict.fromkeys(ind.measures, 0.0)
    above: dict[str, list[str]] = {}  # per region placed at: the nodes its cells count in
    for (code, k), measures in cells.items():
        targets = above.get(code)
        if targets is None:
            targets = [a for a in codes if access.in_subtree(code, a) and a != code]
            if access.region_level(code) != "community":  # its own cells, beside its children's
                targets.append(code + REMAINDER)
            targets.append(code)
            above[code] = targets
        if access.region_level(code) != "community":
            nodes.setdefault((code + REMAINDER, k), dict.fromkeys(ind.measures, 0.0))
        for t in targets:
            slot = nodes[(t, k)]
            for m in ind.measures:
                slot[m] += measures[m]
    return nodes, sorted(codes)


def rollup(session: Session, key: str, *, level: str, region: str | None, day_from: dt.date | None = None,
           day_to: dt.date | None = None, department: str | None = None) -> list[Row]:
    """The internal, unsuppressed view: the rows of `level` under `region` (a region coarser than
    `level` that holds cells of its own shows them as `<code>~`)."""
    ind = indicator(key)
    if level not in LEVELS:
        raise Invalid(N_("Unknown region level"), field="level")
    nodes, _codes = _tree(session, region, ind, period(ind, day_from, day_to), department=department)
    return _rows_at(nodes, level)


def _rows_at(nodes: Mapping[tuple[str, tuple[str, ...]], dict[str, float]], level: str) -> list[Row]:
    rows = []
    for (node, k), measures in nodes.items():
        code = node.rstrip(REMAINDER)
        at = access.region_level(code)
        if (node.endswith(REMAINDER) and LEVELS.index(at) < LEVELS.index(level)) or (
                not node.endswith(REMAINDER) and at == level):
            rows.append(Row(node, k, dict(measures)))
    return sorted(rows, key=lambda r: (r.region, r.key))


@dataclass
class Table:
    indicator: Indicator
    level: str
    region: str | None
    period: Period
    as_of: dt.datetime | None
    total: list[Row]
    rows: list[Row]
    min_count: int
    department: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)


def root_region(session: Session) -> str | None:
    """The top of the region tree (the province of the demo)."""
    return session.scalar(select(Region.code).where(Region.parent_code.is_(None)).order_by(Region.code).limit(1))


def table(session: Session, principal: access.Principal, key: str, *, level: str | None = None,
          region: str | None = None, day_from: dt.date | None = None, day_to: dt.date | None = None) -> Table:
    """What `principal` sees of an indicator: rows at `level` under `region`, suppressed."""
    scope = scope_of(principal)
    ind = indicator(key, scope)
    region = region or scope.region or root_region(session)
    if region is not None and session.get(Region, region) is None:
        raise Invalid(N_("Unknown region"), field="region")
    if region is not None and scope.region is not None and not access.in_subtree(region, scope.region):
        access.require_region(principal, region)
    if region is None:
        raise NotFound(N_("No regions are loaded"), field="region")
    own = access.region_level(region)
    level = level or LEVELS[min(LEVELS.index(own) + 1, len(LEVELS) - 1)]
    if level not in LEVELS:
        raise Invalid(N_("Unknown region level"), field="level")
    if LEVELS.index(level) < LEVELS.index(own):
        raise Invalid(N_("The level must be the region's own or below it"), field="level")
    p = period(ind, day_from, day_to)
    # Suppression is decided once over the whole tree, whoever looks at which part of it: a view
    # of a street and a view of its district hide the same cells (no subtraction across views).
    everything, _codes = _tree(session, None, ind, p, department=scope.department)
    threshold = int(store.settings(session)["min_count"])
    hidden = _suppressed(ind, everything, threshold)
    nodes = {(n, k): v for (n, k), v in everything.items() if access.in_subtree(n, region)}
    rows = _rows_at(nodes, level)
    total = [Row(region, k, dict(v)) for (n, k), v in nodes.items() if n == region]
    for r in (*rows, *total):
        r.suppressed = (r.region, r.key) in hidden
    state = session.get(CockpitState, ind.key)
    return Table(ind, level, region, p, state.refreshed_at if state else None, sorted(total, key=lambda r: r.key),
                 rows, threshold, scope.department, _names(session, {r.code for r in rows} | {region}),
                 _labels(session, ind, {k for r in rows for k in [r.key]}))


def _suppressed(ind: Indicator, nodes: Mapping[tuple[str, tuple[str, ...]], dict[str, float]],
                threshold: int) -> set[tuple[str, tuple[str, ...]]]:
    """The cells hidden by the aggregate basis, one tree (one key) at a time."""
    if ind.subjects is None:
        return set()
    by_key: dict[tuple[str, ...], dict[str, int]] = defaultdict(dict)
    for (node, k), measures in nodes.items():
        by_key[k][node] = round(measures[ind.subjects])
    hidden: set[tuple[str, tuple[str, ...]]] = set()
    for k, counts in by_key.items():
        for node, n in release.suppress(counts, threshold=threshold).items():
            if n is None:
                hidden.add((node, k))
    return hidden


def _names(session: Session, codes: set[str]) -> dict[str, str]:
    rows = session.scalars(select(Region).where(Region.code.in_(sorted(codes)))).all()
    return {r.code: pick({"zh": r.name_zh, "en": r.name_en}) for r in rows}


def _labels(session: Session, ind: Indicator, keys: set[tuple[str, ...]]) -> dict[str, dict[str, str]]:
    """How each dimension's values are shown: departments by name, others by the owner's labels."""
    out: dict[str, dict[str, str]] = {}
    for i, dim in enumerate(ind.dimensions):
        values = {k[i] for k in keys}
        if dim == "department":
            depts = session.scalars(select(Department).where(Department.id.in_(sorted(values)))).all()
            out[dim] = {d.id: pick({"zh": d.name_zh, "en": d.name_en}) for d in depts}
            out[dim][""] = gettext(N_("Not assigned to a department"))
        elif ind.value_labels is not None:
            out[dim] = dict(ind.value_labels(session, dim))
        else:
            out[dim] = {}
    return out


def region_label(t: Table, row: Row) -> str:
    name = t.names.get(row.code, row.code)
    return gettext("%(region)s (not broken down)") % {"region": name} if row.remainder else name


def key_labels(t: Table, row: Row) -> list[str]:
    return [t.labels.get(dim, {}).get(v, v) for dim, v in zip(t.indicator.dimensions, row.key, strict=True)]


def formatted(ind: Indicator, value: float | None) -> str:
    if value is None:
        return "—"
    if ind.show == "ratio":
        return f"{value * 100:.1f}%"
    if ind.show == "mean":
        return f"{value:.2f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def as_dict(t: Table) -> dict[str, Any]:
    """The table as the API returns it: suppressed cells carry no figure at all."""
    def row(r: Row) -> dict[str, Any]:
        return {"region": r.code, "region_name": region_label(t, r), "not_broken_down": r.remainder,
                "key": dict(zip(t.indicator.dimensions, r.key, strict=True)), "key_labels": key_labels(t, r),
                "suppressed": r.suppressed,
                "measures": None if r.suppressed else r.measures,
                "value": None if r.suppressed else shown(t.indicator, r.measures)}
    return {"indicator": t.indicator.key, "level": t.level, "region": t.region,
            "from": t.period.day_from.isoformat(), "to": t.period.day_to.isoformat(),
            "as_of": t.as_of.isoformat() if t.as_of else None, "min_count": t.min_count,
            "department": t.department, "total": [row(r) for r in t.total], "rows": [row(r) for r in t.rows]}


def grouped(session: Session, ind: Indicator, p: Period, *, level: str,
            by: tuple[str, ...]) -> dict[tuple[str, tuple[str, ...]], dict[str, float]]:
    """Internal sums at `level` per value of the dimensions `by` (the others summed over): what
    the early-warning rules read. A region with nothing behind its figure (every measure zero: no
    cell of that key there) is left out — a department does not run short where it does not work."""
    nodes, _codes = _tree(session, None, ind, p, department=None)
    at = [ind.dimensions.index(d) for d in by]
    out: dict[tuple[str, tuple[str, ...]], dict[str, float]] = {}
    for r in _rows_at(nodes, level):
        if r.remainder or not any(r.measures.values()):
            continue
        slot = out.setdefault((r.code, tuple(r.key[i] for i in at)), dict.fromkeys(ind.measures, 0.0))
        for m in ind.measures:
            slot[m] += r.measures[m]
    return out
