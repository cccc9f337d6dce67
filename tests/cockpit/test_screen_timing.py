"""Timing of the one screen over a store as full as a 10,000,000-person city's year — a measurement,
not part of the suite: run with `TONGBAN_SCREEN_TIMING=1` (and `-s` to see the table).

Three indicators at the city's density — 365 days × every community of the demo × 50 keys, and
some cells at the streets and districts above them: a flow by department × item (the department
scope), a count by sex × age band, a stock by status × kind with a snapshot each day. Each screen
is timed from the rollup (`screen.screen`: the first screen and every drill-down) and straight from
the cells (`screen.reference`: the first screen and a few drill-downs), with the cost of writing
the cells, rebuilding the rollup and a refresh's rewrite of the trailing 36 days."""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.cockpit import fakes
from tongban.cockpit import figures, screen, store, warnings
from tongban.cockpit.models import CockpitState
from tongban.core import access, clock
from tongban.core.identity.models import Region
from tongban.core.indicators import Cell, Indicator

pytestmark = pytest.mark.skipif(not os.environ.get("TONGBAN_SCREEN_TIMING"),
                                reason="a measurement: TONGBAN_SCREEN_TIMING=1 runs it")

DAYS = 365
KEYS = 50


def _nothing(session: Any, *, day_from: dt.date, day_to: dt.date) -> Iterator[Cell]:
    return iter(())


DEPTS = ("dept.haishu.gov", "dept.nanmen.office", "dept.haishu.civil", "dept.haishu.hr", "dept.haishu.health")
CITY = (
    (Indicator(key="d.flow", label="Flow", definition="By department and item.", measures=("n", "ok"), show="ratio",
               of=("ok", "n"), compute=_nothing, dimensions=("department", "item"), subjects="n"),
     [(d, f"item{i}") for d in DEPTS for i in range(KEYS // len(DEPTS))]),
    (Indicator(key="d.count", label="Count", definition="By sex and age band.", measures=("persons",),
               show="count", of=("persons",), compute=_nothing, dimensions=("sex", "band"), subjects="persons"),
     [(s, f"b{i}") for s in ("F", "M") for i in range(KEYS // 2)]),
    (Indicator(key="d.stock", label="Stock", definition="By status and kind.", measures=("held", "total"),
               show="ratio", of=("held", "total"), compute=_nothing, dimensions=("status", "kind"), kind="stock",
               subjects="total"),
     [(s, f"k{i}") for s in ("a", "b") for i in range(KEYS // 2)]),
)
ADMIN = access.Principal(kind="staff", account_id=1, permissions=frozenset({"platform.admin", "cockpit.view"}))
LEADER = access.Principal(kind="staff", account_id=2, region_code="330203", permissions=frozenset({"cockpit.region"}))
HEAD = access.Principal(kind="staff", account_id=3, region_code="330203", department_id="dept.nanmen.office",
                        permissions=frozenset({"cockpit.department"}))


def _cells(ind: Indicator, keys: list[tuple[str, ...]], codes: list[str], days: list[dt.date],
           rng: random.Random) -> list[Cell]:
    communities = [c for c in codes if len(c) == 12]
    above = [c for c in codes if len(c) == 9] + ["330203"]
    out = []
    for day in days:
        for region in communities:
            for key in keys:
                n = float(rng.randrange(0, 40))
                values = {"n": n, "ok": float(rng.randrange(0, int(n) + 1)), "persons": n, "total": n,
                          "held": float(rng.randrange(0, int(n) + 1))}
                out.append(Cell(day, region, key, {m: values[m] for m in ind.measures}))
        for region in above:  # a few cells placed above the communities (the `~` nodes)
            key = rng.choice(keys)
            n = float(rng.randrange(0, 40))
            out.append(Cell(day, region, key, {m: n for m in ind.measures}))
    return out


def _timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _line(what: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return f"{what:<58} n={len(times):>3}  median {statistics.median(times) * 1000:8.1f} ms  " \
           f"p95 {p95 * 1000:8.1f} ms  max {max(times) * 1000:8.1f} ms"


def test_the_screen_at_a_ten_million_city(demo, monkeypatch):  # type: ignore[no-untyped-def]
    fakes.use(monkeypatch, *(ind for ind, _k in CITY))
    rng = random.Random(10_000_000)
    lines = [f"database: {demo.url.split('://')[0]}"]
    today = clock.today()
    days = [today - dt.timedelta(days=i) for i in range(DAYS)][::-1]
    with demo.unit_of_work() as s:
        codes = sorted(s.scalars(select(Region.code)))
        for ind, keys in CITY:
            cells = _cells(ind, keys, codes, days, rng)
            wrote = _timed(lambda: store._write(s, ind, cells, day_from=days[0], day_to=today, rollup=False))  # noqa: B023
            s.add(CockpitState(indicator=ind.key, day_from=days[0], day_to=today, refreshed_at=clock.now(),
                               cells=len(cells)))
            s.flush()
            rows: dict[str, int] = {}
            rebuilt = _timed(lambda: rows.update(store.rebuild_rollup(s, [ind.key])))  # noqa: B023
            lines.append(f"{ind.key}: {len(cells):,} cells written in {wrote:.1f} s; rollup of "
                         f"{rows[ind.key]:,} rows rebuilt in {rebuilt:.1f} s")
            # a refresh's rewrite of the trailing 36 days, with and without the rollup
            tail = [c for c in cells if c.day >= today - dt.timedelta(days=35)]
            start = today - dt.timedelta(days=35)
            plain = _timed(lambda: store._write(s, ind, tail, day_from=start, day_to=today, rollup=False))  # noqa: B023
            both = _timed(lambda: store._write(s, ind, tail, day_from=start, day_to=today))  # noqa: B023
            lines.append(f"{ind.key}: rewrite of 36 days ({len(tail):,} cells) {plain:.2f} s, "
                         f"with the rollup {both:.2f} s")
        s.commit()
        tree = [c for c in codes if c != "330000"]
        year = (today - dt.timedelta(days=364), today)
        for ind, _keys in CITY:
            for who, principal in (("all", ADMIN), ("leader", LEADER), ("head", HEAD)):
                if principal is HEAD and "department" not in ind.dimensions:
                    continue
                top = screen.top_region(s, principal)
                regions = [c for c in tree if access.in_subtree(c, top) and c != top]
                first = [_timed(lambda: screen.screen(s, principal, ind.key)) for _ in range(5)]  # noqa: B023
                lines.append(_line(f"{ind.key} {who} first screen ({top})", first))
                drills = [_timed(lambda: screen.screen(s, principal, ind.key, region=r))  # noqa: B023
                          for r in regions]
                lines.append(_line(f"{ind.key} {who} every drill-down ({len(regions)} regions)", drills))
                assert max(first) < 1 and sorted(drills)[int(0.95 * (len(drills) - 1))] < 1
                if principal is not HEAD:
                    whole = [_timed(lambda: screen.screen(s, principal, ind.key, day_from=year[0],  # noqa: B023
                                                          day_to=year[1])) for _ in range(3)]
                    lines.append(_line(f"{ind.key} {who} first screen, a year", whole))
            # straight from the cells: the first screen and two drill-downs
            naive = [_timed(lambda: screen.reference(s, ADMIN, ind.key, region=r))  # noqa: B023
                     for r in (None, "330203001", "330203001001")]
            lines.append(_line(f"{ind.key} all reference (first screen, a street, a community)", naive))
            got = screen.screen(s, ADMIN, ind.key, region="330203")
            assert got == screen.reference(s, ADMIN, ind.key, region="330203")
        page = [_timed(lambda: (store.as_of(s), figures.visible(figures.scope_of(LEADER)),
                                warnings.visible(s, LEADER))) for _ in range(5)]
        lines.append(_line("/cockpit page's other parts (as-of, indicators, warnings)", page))
    print("\n" + "\n".join(lines))
