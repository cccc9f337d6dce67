"""Straight check of the population pyramid: every person read as a row, their age counted in
years by the calendar."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.cockpit.straight_util import Cells, Tally
from tongban.registry.models import Person


def _band(age: int) -> str:
    return "100+" if age >= 100 else f"{age - age % 5:02d}-{age - age % 5 + 4:02d}"


def pyramid(session, *, day_from: dt.date, day_to: dt.date) -> Cells:  # type: ignore[no-untyped-def]
    t = Tally(("persons",))
    for p in session.scalars(select(Person)):
        dead = p.death_date <= day_to if p.death_date is not None else not p.alive
        if p.birth_date > day_to or dead:
            continue
        age = day_to.year - p.birth_date.year - ((day_to.month, day_to.day) < (p.birth_date.month, p.birth_date.day))
        t.add(day_to, p.region_code, (p.sex, _band(age)), persons=1)
    return t.result()


STRAIGHT = {"registry.pyramid": pyramid}
