"""The store of cells, kept fresh: each indicator's cells as its owner computes them, refreshed by
a job (`cockpit.refresh`, every two minutes) so that no figure is older than five minutes.

A refresh recomputes, per indicator, only the days that may have changed since the last one: the
days its `changed` names, or the trailing `lookback_days` of the pack; a stock is recomputed for
today only (yesterday's snapshot stays as it was). The first refresh, and `full`, recompute the
whole period (`history_days` of the pack, or the days given).

Beside the cells, each write keeps the indicator's rollup (`CockpitRollup`): the days written
summed up the region tree with the dimensions summed over, per department — what the one screen
reads (docs/cockpit.md, "The rollup")."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from tongban.cockpit.models import (
    ALL_DEPARTMENTS,
    ROLLUP_MEASURES,
    CockpitCell,
    CockpitRollup,
    CockpitSetting,
    CockpitState,
)
from tongban.core import access, clock, slices
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


def rolled_up(ind: Indicator) -> bool:
    """Does the store keep a rollup of the indicator (its measures fit a rollup row)?"""
    return len(ind.measures) <= ROLLUP_MEASURES


def nodes_of(region: str) -> tuple[str, ...]:
    """The rollup nodes a cell placed at `region` counts in: the region, every region above it
    (GB/T 2260 prefixes: those `access.in_subtree(region, node)` holds for) and, for a region above
    the communities, `<region>~` (its own cells beside its children's)."""
    from tongban.cockpit.figures import LEVELS, REMAINDER, ancestor

    level = access.region_level(region)
    above = {a for lv in LEVELS[:LEVELS.index(level)] if (a := ancestor(region, lv)) is not None}
    own = (region, region + REMAINDER) if level != "community" else (region,)
    return (*sorted(above - {region}), *own)


def rollup_rows(ind: Indicator, cells: Iterable[tuple[dt.date, str, tuple[str, ...], dict[str, float]]]) -> list[dict[str, Any]]:
    """The rollup rows of cells (each cell once: day, region, key, measures)."""
    measures = ind.measures
    dept_at = ind.dimensions.index("department") if "department" in ind.dimensions else None
    # first per day × region × department (a few rows where the cells had ~50 keys) …
    placed: dict[tuple[dt.date, str, str], list[float]] = {}
    for day, region, key, values in cells:
        # a department's own rows: not for a value no department id can be (too long, or `*`)
        depts = (ALL_DEPARTMENTS,) if dept_at is None or not 0 < len(key[dept_at]) <= 64 \
            or key[dept_at] == ALL_DEPARTMENTS else (ALL_DEPARTMENTS, key[dept_at])
        for dept in depts:
            slot = placed.get((day, region, dept))
            if slot is None:
                slot = placed[(day, region, dept)] = [0.0] * (len(measures) + 1)
            slot[0] += 1
            for i, m in enumerate(measures, 1):
                slot[i] += values[m]
    # … then up the tree
    nodes: dict[str, tuple[str, ...]] = {}
    summed: dict[tuple[dt.date, str, str], list[float]] = {}
    for (day, region, dept), values_ in placed.items():
        if region not in nodes:
            nodes[region] = nodes_of(region)
        for node in nodes[region]:
            slot = summed.get((day, node, dept))
            if slot is None:
                summed[(day, node, dept)] = list(values_)
            else:
                for i, v in enumerate(values_):
                    slot[i] += v
    pad = [0.0] * (ROLLUP_MEASURES - len(measures))
    return [{"indicator": ind.key, "department": dept, "node": node, "day": day, "cells": int(v[0]),
             **{f"m{i}": x for i, x in enumerate([*v[1:], *pad])}}
            for (day, node, dept), v in summed.items()]


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), 5000):
        session.execute(insert(model), rows[i:i + 5000])


def _write(session: Session, ind: Indicator, cells: Iterable[Cell], *, day_from: dt.date, day_to: dt.date,
           rollup: bool = True) -> int:
    """Replace the indicator's cells of [day_from, day_to] by `cells` (summing repeats of one cell)
    and, with `rollup`, its rollup of those days."""
    session.execute(delete(CockpitCell).where(CockpitCell.indicator == ind.key, CockpitCell.day >= day_from,
                                              CockpitCell.day <= day_to))
    merged: dict[tuple[dt.date, str, tuple[str, ...]], dict[str, float]] = {}
    for c in cells:
        if not day_from <= c.day <= day_to:
            raise ValueError(f"indicator {ind.key}: a cell of {c.day} outside {day_from}–{day_to}")
        if len(c.key) != len(ind.dimensions):
            raise ValueError(f"indicator {ind.key}: a cell key {c.key!r} does not match {ind.dimensions!r}")
        slot = merged.setdefault((c.day, c.region, tuple(str(v) for v in c.key)), dict.fromkeys(ind.measures, 0.0))
        for m in ind.measures:
            slot[m] += float(c.values.get(m, 0) or 0)
    _insert(session, CockpitCell, [{"indicator": ind.key, "day": d, "region": r, "key": encode_key(k), "measures": v}
                                   for (d, r, k), v in merged.items()])
    if rollup and rolled_up(ind):
        session.execute(delete(CockpitRollup).where(CockpitRollup.indicator == ind.key,
                                                    CockpitRollup.day >= day_from, CockpitRollup.day <= day_to))
        _insert(session, CockpitRollup, rollup_rows(ind, ((d, r, k, v) for (d, r, k), v in merged.items())))
    return len(merged)


def rebuild_rollup(session: Session, keys: Iterable[str] | None = None) -> dict[str, int]:
    """Rebuild the rollup of the indicators `keys` (default: all) from their stored cells, and mark
    it complete: after the cells were written some other way (a bulk load), or once after the
    migration that brought the rollup. Returns the rows written per indicator."""
    found = indicators()
    return {key: _rebuild(session, found[key]) for key in (sorted(found) if keys is None else keys)}


def _rebuild(session: Session, ind: Indicator) -> int:
    session.execute(delete(CockpitRollup).where(CockpitRollup.indicator == ind.key))
    rows: list[dict[str, Any]] = []
    if rolled_up(ind):
        stored = session.execute(select(CockpitCell.day, CockpitCell.region, CockpitCell.key, CockpitCell.measures)
                                 .where(CockpitCell.indicator == ind.key).execution_options(yield_per=20000))
        rows = rollup_rows(ind, ((d, r, decode_key(k), {m: float(v.get(m, 0) or 0) for m in ind.measures})
                                 for d, r, k, v in stored))
        _insert(session, CockpitRollup, rows)
    state = session.get(CockpitState, ind.key)
    if state is not None:
        state.rollup = rolled_up(ind)
    session.flush()
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
        complete = state is not None and state.rollup
        written = _write(session, ind, cells, day_from=start, day_to=today)
        if state is None:
            state = CockpitState(indicator=ind.key, day_from=start, day_to=today)
            session.add(state)
            session.flush()
        if not complete:  # the first refresh, or the first since the rollup came: every stored day
            if session.scalar(select(CockpitCell.id).where(
                    CockpitCell.indicator == ind.key, (CockpitCell.day < start) | (CockpitCell.day > today)).limit(1)):
                _rebuild(session, ind)
            else:
                state.rollup = rolled_up(ind)
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
