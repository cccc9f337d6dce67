"""The service-history generator: a synthetic city (the registry's generator) given a past by
every slice's contributed `HistoryPart` (`cockpit.history`), run in `order` over one `History`,
then the cockpit refreshed over the whole period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from tongban.core import clock, slices
from tongban.core.db import Database
from tongban.core.indicators import HISTORY, History, HistoryPart


def parts() -> list[HistoryPart]:
    """Every contributed part, in `order` (then key)."""
    found: list[HistoryPart] = []
    for target in slices.contributed(HISTORY):
        for part in (target if isinstance(target, tuple | list) else (target,)):
            if not isinstance(part, HistoryPart):
                raise TypeError(f"a contribution to {HISTORY} is not a HistoryPart: {part!r}")
            found.append(part)
    keys = [p.key for p in found]
    if len(keys) != len(set(keys)):
        raise ValueError("two history parts share a key")
    return sorted(found, key=lambda p: (p.order, p.key))


@dataclass
class Generated:
    persons: int
    start: dt.date
    end: dt.date
    rows: dict[str, int] = field(default_factory=dict)
    cells: int = 0
    warnings: int = 0


def run(db: Database, *, persons: int, days: int, seed: int, rate: float = 1.0,
        on_part: Callable[[HistoryPart, int], None] | None = None,
        found: list[HistoryPart] | None = None) -> Generated:
    """Run each part over the last `days` days to today, one transaction per part, then refresh
    the cockpit over the same days (its own transaction)."""
    from tongban.cockpit import store

    end = clock.today()
    start = end - dt.timedelta(days=days - 1)
    done = Generated(persons, start, end)
    notes: dict[str, object] = {}
    for part in (found if found is not None else parts()):
        with db.unit_of_work() as session:
            rows = part.write(History(session=session, seed=seed, start=start, end=end, persons=persons,
                                      rate=rate, notes=notes))
        done.rows[part.key] = rows
        if on_part is not None:
            on_part(part, rows)
    with db.unit_of_work() as session:
        refreshed = store.refresh(session, full=True, day_from=start)
    done.cells = sum(refreshed.cells.values())
    done.warnings = refreshed.warnings
    return done
