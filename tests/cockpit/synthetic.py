"""Synthetic stores of cells for the one screen: indicators that compute nothing (their cells are
written straight into the store), and cells placed over the demo's region tree — at communities,
at streets and districts above them (the `~` remainder nodes), at regions the Region table does
not hold — with dyadic measures (sums exact in any order), small enough for suppression to bite.
Used by the screen's equality tests and by `tests/cockpit/screen_timing.py` at a city's density."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from sqlalchemy import delete, select

from tongban.cockpit import store
from tongban.cockpit.models import CockpitCell, CockpitRollup, CockpitState
from tongban.core import clock
from tongban.core.identity.models import Region
from tongban.core.indicators import Cell, Indicator


def _nothing(session: Any, *, day_from: dt.date, day_to: dt.date) -> Iterator[Cell]:
    return iter(())


DEPARTMENTS = ("dept.haishu.gov", "dept.nanmen.office", "dept.haishu.civil", "")
FLOW = Indicator(key="t.flow", label="Flow", definition="A flow by department and kind.", measures=("n", "ok"),
                 show="ratio", of=("ok", "n"), compute=_nothing, dimensions=("department", "kind"), subjects="n")
PLAIN = Indicator(key="t.plain", label="Plain", definition="A flow without dimensions.", measures=("n",),
                  show="count", of=("n",), compute=_nothing, subjects="n")
MEAN = Indicator(key="t.mean", label="Mean", definition="A mean by department.", measures=("n", "days"),
                 show="mean", of=("days", "n"), compute=_nothing, dimensions=("department",), subjects="n")
STOCK = Indicator(key="t.stock", label="Stock", definition="A stock by kind.", measures=("held", "total"),
                  show="ratio", of=("held", "total"), compute=_nothing, dimensions=("kind",), kind="stock",
                  subjects="total")
STOCK_PLAIN = Indicator(key="t.stock0", label="Stock plain", definition="A stock counting no one.",
                        measures=("places",), show="count", of=("places",), compute=_nothing, kind="stock")
ALL = (FLOW, PLAIN, MEAN, STOCK, STOCK_PLAIN)
# regions cells may be placed at that the Region table does not hold
UNKNOWN = ("330203001999", "330203099", "330203099001", "330205888")


def places(session: Any) -> dict[str, list[str]]:
    """The demo's region codes by where cells go: communities, the regions above them, unknown."""
    codes = sorted(session.scalars(select(Region.code)))
    return {"community": [c for c in codes if len(c) == 12],
            "above": [c for c in codes if len(c) < 12], "unknown": list(UNKNOWN)}


def cells(ind: Indicator, where: dict[str, list[str]], rng: random.Random, *, days: list[dt.date],
          per_day: int, keys: int = 3) -> list[Cell]:
    """`per_day` cells a day (a stock: only on `days`, its snapshots), mostly at communities."""
    out = []
    for day in days:
        for _ in range(per_day):
            r = rng.random()
            pool = where["community"] if r < 0.7 else where["above"] if r < 0.93 else where["unknown"]
            key = tuple(rng.choice(DEPARTMENTS) if d == "department" else f"k{rng.randrange(keys)}"
                        for d in ind.dimensions)
            n = float(rng.randrange(0, 9))
            second = {"ok": float(rng.randrange(0, int(n) + 1)), "days": n * rng.choice((0.5, 1.25, 3.0)),
                      "held": float(rng.randrange(0, int(n) + 1)), "total": n, "places": n}
            values = {m: (n if m in ("n",) else second[m]) for m in ind.measures}
            out.append(Cell(day, rng.choice(pool), key, values))
    return out


def fill(session: Any, ind: Indicator, written: list[Cell], *, day_from: dt.date, day_to: dt.date) -> None:
    """Replace the indicator's store by `written` (cells, then its rollup rebuilt from them)."""
    for model in (CockpitCell, CockpitRollup, CockpitState):
        session.execute(delete(model).where(model.indicator == ind.key))
    store._write(session, ind, written, day_from=day_from, day_to=day_to, rollup=False)
    session.add(CockpitState(indicator=ind.key, day_from=day_from, day_to=day_to, refreshed_at=clock.now(),
                             cells=len(written)))
    session.flush()
    store.rebuild_rollup(session, [ind.key])
