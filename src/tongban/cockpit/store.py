"""The store of cells, kept fresh: each indicator's cells as its owner computes them, refreshed by
a job (`cockpit.refresh`, every two minutes) so that no figure is older than five minutes.

A refresh recomputes, per indicator, only the days that may have changed since the last one: the
days its `changed` names, or the trailing `lookback_days` of the pack; a stock is recomputed for
today only (yesterday's snapshot stays as it was). The first refresh, and `full`, recompute the
whole period (`history_days` of the pack, or the days given)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from tongban.cockpit.models import CockpitCell, CockpitSetting, CockpitState
from tongban.core import clock, slices
from tongban.core.indicators import INDICATORS, Cell, Indicator

log = logging.getLogger(__name__)

DEFAULT_SETTINGS: dict[str, Any] = {"min_count": 10, "lookback_days": 35, "history_days": 365,
                                    "stale_minutes": 5}


def indicators() -> dict[str, Indicator]:
    """Every contributed indicator by key (a contribution is one `Indicator` or a tuple of them)."""
    found: dict[str, Indicator] = {}
    for target in slices.contributed(INDICATORS):
        for ind in (target if isinstance(target, tuple | list) else (target,)):
            if not isinstance(ind, Indicator):
                raise TypeError(f"a contribution to {INDICATORS} is not an Indicator: {ind!r}")
            if ind.key in found:
                raise ValueError(f"two indicators are keyed {ind.key!r}")
            found[ind.key] = ind
    return dict(sorted(found.items()))


def settings(session: Session) -> dict[str, Any]:
    row = session.get(CockpitSetting, "settings")
    return {**DEFAULT_SETTINGS, **(row.value if row is not None and row.value else {})}


def encode_key(key: Iterable[str]) -> str:
    return json.dumps([str(v) for v in key], ensure_ascii=False, separators=(",", ":"))


def decode_key(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


@dataclass
class Refreshed:
    """What one refresh did: per indicator, the days recomputed and the cells written."""

    days: dict[str, tuple[dt.date, dt.date]] = field(default_factory=dict)
    cells: dict[str, int] = field(default_factory=dict)
    warnings: int = 0


def _write(session: Session, ind: Indicator, cells: Iterable[Cell], *, day_from: dt.date, day_to: dt.date) -> int:
    """Replace the indicator's cells of [day_from, day_to] by `cells` (summing repeats of one cell)."""
    session.execute(delete(CockpitCell).where(CockpitCell.indicator == ind.key, CockpitCell.day >= day_from,
                                              CockpitCell.day <= day_to))
    merged: dict[tuple[dt.date, str, str], dict[str, float]] = {}
    for c in cells:
        if not day_from <= c.day <= day_to:
            raise ValueError(f"indicator {ind.key}: a cell of {c.day} outside {day_from}–{day_to}")
        if len(c.key) != len(ind.dimensions):
            raise ValueError(f"indicator {ind.key}: a cell key {c.key!r} does not match {ind.dimensions!r}")
        slot = merged.setdefault((c.day, c.region, encode_key(c.key)), dict.fromkeys(ind.measures, 0.0))
        for m in ind.measures:
            slot[m] += float(c.values.get(m, 0) or 0)
    rows = [{"indicator": ind.key, "day": d, "region": r, "key": k, "measures": v}
            for (d, r, k), v in merged.items()]
    for i in range(0, len(rows), 5000):
        session.execute(insert(CockpitCell), rows[i:i + 5000])
    return len(rows)


def refresh(session: Session, *, full: bool = False, day_from: dt.date | None = None,
            only: Iterable[str] | None = None) -> Refreshed:
    """Bring the store up to date (the caller commits) and evaluate the early-warning rules."""
    from tongban.cockpit import warnings

    conf = settings(session)
    today = clock.today()
    now = clock.now()
    done = Refreshed()
    wanted = set(only) if only is not None else None
    for ind in indicators().values():
        if wanted is not None and ind.key not in wanted:
            continue
        state = session.get(CockpitState, ind.key)
        if ind.kind == "stock":
            start = today
        elif full or state is None:
            start = day_from or today - dt.timedelta(days=int(conf["history_days"]) - 1)
        elif ind.changed is not None:
            changed = [d for d in ind.changed(session, since=state.refreshed_at) if d <= today]
            start = min([*changed, state.day_to, today])
        else:
            start = min(state.day_to, today) - dt.timedelta(days=int(conf["lookback_days"]))
        cells = ind.compute(session, day_from=start, day_to=today)
        written = _write(session, ind, cells, day_from=start, day_to=today)
        if state is None:
            state = CockpitState(indicator=ind.key, day_from=start, day_to=today)
            session.add(state)
        state.day_from = min(state.day_from, start)
        state.day_to = today
        state.refreshed_at = now
        state.cells = written
        done.days[ind.key] = (start, today)
        done.cells[ind.key] = written
        log.info("cockpit refresh %s: %s–%s, %d cells", ind.key, start, today, written)
    session.flush()
    done.warnings = warnings.evaluate(session)
    return done


def as_of(session: Session) -> dict[str, dt.datetime]:
    """Each indicator's as-of time: when its cells were last refreshed."""
    return {s.indicator: s.refreshed_at for s in session.scalars(select(CockpitState))}


def seed_demo(session: Session, settings: Any) -> None:
    """`tongban demo load`: the figures of the demo as loaded, so the cockpit opens with them."""
    refresh(session)
