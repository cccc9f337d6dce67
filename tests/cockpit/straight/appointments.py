"""Straight checks of the appointments indicators: the same cells as `appointments.indicators`,
counted row by row in Python from one plain SQL read of the live tables."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import text

Cells = dict[tuple[dt.date, str, tuple[str, ...]], dict[str, float]]


def _rows(session: Any, day_from: dt.date, day_to: dt.date) -> list[Any]:
    return list(session.execute(text(
        "SELECT b.day, b.region_code, r.department_id, r.place_key, r.id, b.status "
        "FROM appt_booking b, appt_resource r WHERE r.id = b.resource_id AND b.day >= :a AND b.day <= :b"),
        {"a": day_from, "b": day_to}))


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def bookings(session: Any, *, day_from: dt.date, day_to: dt.date) -> Cells:
    out: Cells = defaultdict(lambda: {"bookings": 0.0})
    for day, region, dept, place, res, status in _rows(session, day_from, day_to):
        if status != "cancelled":
            out[(_day(day), region or "", (dept, place, res))]["bookings"] += 1
    return dict(out)


def no_shows(session: Any, *, day_from: dt.date, day_to: dt.date) -> Cells:
    out: Cells = defaultdict(lambda: {"no_shows": 0.0, "settled": 0.0})
    for day, region, dept, place, res, status in _rows(session, day_from, day_to):
        if status in ("attended", "no_show"):
            cell = out[(_day(day), region or "", (dept, place, res))]
            cell["settled"] += 1
            cell["no_shows"] += status == "no_show"
    return dict(out)


STRAIGHT = {"appointments.bookings": bookings, "appointments.no_shows": no_shows}
