"""The equality check: every indicator's cockpit figure, at every region level (the internal,
unsuppressed view), equals its straight computation rolled up the same way."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from tests.cockpit import straight
from tongban.cockpit import figures, store

Straight = Callable[..., dict[tuple[dt.date, str, tuple[str, ...]], dict[str, float]]]


def straight_checks() -> dict[str, Straight]:
    """Every `STRAIGHT` of the modules in tests/cockpit/straight/."""
    found: dict[str, Straight] = {}
    for info in pkgutil.iter_modules(straight.__path__):
        module = importlib.import_module(f"{straight.__name__}.{info.name}")
        for key, fn in getattr(module, "STRAIGHT", {}).items():
            assert key not in found, f"two straight checks of {key}"
            found[key] = fn
    return found


def without_check(indicators: dict[str, Any], checks: dict[str, Straight]) -> list[str]:
    return sorted(set(indicators) - set(checks))


def expected_rows(cells: dict[tuple[dt.date, str, tuple[str, ...]], dict[str, float]], *, level: str,
                  day_from: dt.date, day_to: dt.date, stock: bool) -> dict[tuple[str, tuple[str, ...]], dict[str, float]]:
    """Straight cells rolled up to `level` (a region coarser than it keeps its own row, `<code>~`)."""
    out: dict[tuple[str, tuple[str, ...]], dict[str, float]] = {}
    for (day, code, key), measures in cells.items():
        if (day != day_to) if stock else not day_from <= day <= day_to:
            continue
        node = figures.ancestor(code, level) or code + figures.REMAINDER
        slot = out.setdefault((node, key), {})
        for m, v in measures.items():
            slot[m] = slot.get(m, 0.0) + float(v)
    return {k: v for k, v in out.items() if any(v.values())}


def assert_equal(session: Any, key: str, check: Straight, *, day_from: dt.date, day_to: dt.date) -> int:
    """Compare at every level; returns how many non-zero rows were compared."""
    ind = store.indicators()[key]
    cells = check(session, day_from=day_from, day_to=day_to)
    compared = 0
    for level in figures.LEVELS:
        want = expected_rows(cells, level=level, day_from=day_from, day_to=day_to, stock=ind.kind == "stock")
        rows = figures.rollup(session, key, level=level, region=None, day_from=day_from, day_to=day_to)
        got = {(r.region, r.key): r.measures for r in rows if any(r.measures.values())}
        assert set(got) == set(want), f"{key} at {level}: rows differ: {sorted(set(got) ^ set(want))[:5]}"
        for k, measures in got.items():
            for m in ind.measures:
                assert abs(measures[m] - want[k].get(m, 0.0)) < 1e-6, f"{key} at {level} {k} {m}"
        compared += len(got)
    return compared

