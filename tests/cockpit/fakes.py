"""Indicators defined by the tests (until the slices' own land), over the registry's persons, with
their straight checks: births per day × community × sex (a flow) and the married share of adults
per community (a stock ratio). `use` makes the cockpit see them beside the contributed ones."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from tongban.cockpit import store
from tongban.core.indicators import Cell, Indicator
from tongban.registry.models import Person

Cells = dict[tuple[dt.date, str, tuple[str, ...]], dict[str, float]]


def _births(session: Any, *, day_from: dt.date, day_to: dt.date) -> Iterator[Cell]:
    rows = session.execute(select(Person.birth_date, Person.region_code, Person.sex, func.count(Person.id))
                           .where(Person.birth_date >= day_from, Person.birth_date <= day_to)
                           .group_by(Person.birth_date, Person.region_code, Person.sex))
    for day, region, sex, n in rows:
        yield Cell(day, region, (sex,), {"persons": float(n)})


def _married(session: Any, *, day_from: dt.date, day_to: dt.date) -> Iterator[Cell]:
    adult = day_to.replace(year=day_to.year - 18)
    rows = session.execute(select(Person.region_code, Person.marital_status, func.count(Person.id))
                           .where(Person.birth_date <= adult, Person.alive.is_(True))
                           .group_by(Person.region_code, Person.marital_status))
    by_region: dict[str, dict[str, float]] = {}
    for region, status, n in rows:
        slot = by_region.setdefault(region, {"married": 0.0, "adults": 0.0})
        slot["adults"] += n
        if status == "married":
            slot["married"] += n
    for region, values in by_region.items():
        yield Cell(day_to, region, (), values)


BIRTHS = Indicator(key="test.births", label="Births", definition="Persons born on the day.",
                   measures=("persons",), show="count", of=("persons",), compute=_births, dimensions=("sex",),
                   subjects="persons")
MARRIED = Indicator(key="test.married", label="Married share", definition="Married adults ÷ adults.",
                    measures=("married", "adults"), show="ratio", of=("married", "adults"), compute=_married,
                    kind="stock", subjects="adults")


def straight_births(session: Any, *, day_from: dt.date, day_to: dt.date) -> Cells:
    counted: Counter[tuple[dt.date, str, tuple[str, ...]]] = Counter()
    for p in session.scalars(select(Person)):
        if day_from <= p.birth_date <= day_to:
            counted[(p.birth_date, p.region_code, (p.sex,))] += 1
    return {c: {"persons": float(n)} for c, n in counted.items()}


def straight_married(session: Any, *, day_from: dt.date, day_to: dt.date) -> Cells:
    out: Cells = {}
    for p in session.scalars(select(Person)):
        if not p.alive or p.birth_date > dt.date(day_to.year - 18, day_to.month, day_to.day):
            continue
        slot = out.setdefault((day_to, p.region_code, ()), {"married": 0.0, "adults": 0.0})
        slot["adults"] += 1
        slot["married"] += p.marital_status == "married"
    return out


STRAIGHT = {"test.births": straight_births, "test.married": straight_married}


def use(monkeypatch: pytest.MonkeyPatch, *extra: Indicator) -> dict[str, Indicator]:
    """The cockpit sees the contributed indicators and `extra`."""
    found = {**store.indicators(), **{i.key: i for i in extra}}
    monkeypatch.setattr(store, "indicators", lambda: dict(sorted(found.items())))
    return found
