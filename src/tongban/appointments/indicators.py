"""The figures appointments publish for the cockpit (core.indicators), and its part of the service
history: bookings of the synthetic city's residents at the pack's resources.

- `appointments.bookings`: bookings not cancelled, by the appointment's day, per department, place
  and resource (region: the place's).
- `appointments.no_shows`: no-shows ÷ settled bookings (attended + no-show), same cells."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, func, insert, select

from tongban.appointments import service
from tongban.appointments.models import Booking, Resource, Slot
from tongban.core import clock
from tongban.core.i18n import N_, pick
from tongban.core.indicators import Cell, History, HistoryPart, Indicator
from tongban.core.workdays import calendar

DIMENSIONS = ("department", "place", "resource")
DIMENSION_LABELS = {"department": N_("Department"), "place": N_("Place"), "resource": N_("Bookable service")}


def _cells(session: Any, day_from: dt.date, day_to: dt.date) -> list[tuple[Any, ...]]:
    q = (select(Booking.day, Booking.region_code, Resource.department_id, Resource.place_key, Resource.id,
                func.count().label("bookings"),
                func.sum(case((Booking.status == "no_show", 1), else_=0)).label("no_shows"),
                func.sum(case((Booking.status.in_(("attended", "no_show")), 1), else_=0)).label("settled"))
         .join(Resource, Resource.id == Booking.resource_id)
         .where(Booking.day >= day_from, Booking.day <= day_to, Booking.status != "cancelled")
         .group_by(Booking.day, Booking.region_code, Resource.department_id, Resource.place_key, Resource.id))
    return list(session.execute(q))


def bookings(session: Any, *, day_from: dt.date, day_to: dt.date) -> Iterable[Cell]:
    for day, region, dept, place, res, n, _ns, _settled in _cells(session, day_from, day_to):
        yield Cell(day, region or "", (dept, place, res), {"bookings": float(n)})


def no_shows(session: Any, *, day_from: dt.date, day_to: dt.date) -> Iterable[Cell]:
    for day, region, dept, place, res, _n, ns, settled in _cells(session, day_from, day_to):
        if settled:
            yield Cell(day, region or "", (dept, place, res), {"no_shows": float(ns or 0), "settled": float(settled)})


def value_labels(session: Any, dimension: str) -> dict[str, str]:
    """A bookable service by its title, a place by its name (the places slice's, once per place)."""
    if dimension not in ("place", "resource"):
        return {}
    resources = list(session.scalars(select(Resource)))
    if dimension == "resource":
        return {r.id: pick(service.title(r)) for r in resources}
    return {r.place_key: pick(service.place_title(service.place_of(session, r))) for r in resources}


INDICATORS = (
    Indicator(key="appointments.bookings", label=N_("Appointments booked"),
              definition=N_("Bookings at service halls, clinics and venues on each day, by the day of the "
                            "appointment; cancelled bookings are not counted"),
              measures=("bookings",), show="count", of=("bookings",), compute=bookings, dimensions=DIMENSIONS,
              subjects="bookings", unit=N_("bookings"), measure_labels={"bookings": N_("Bookings")},
              dimension_labels=DIMENSION_LABELS, value_labels=value_labels),
    Indicator(key="appointments.no_shows", label=N_("No-show rate of appointments"),
              definition=N_("Of the bookings whose day has been settled (the resident came or did not), "
                            "the share where the resident did not come"),
              measures=("no_shows", "settled"), show="ratio", of=("no_shows", "settled"), compute=no_shows,
              dimensions=DIMENSIONS, subjects="settled", unit="%",
              measure_labels={"no_shows": N_("No-shows"), "settled": N_("Settled bookings")},
              dimension_labels=DIMENSION_LABELS, value_labels=value_labels),
)

# A resident visits a bookable window or clinic about once in two years (yearly rate per person).
BOOKINGS_PER_PERSON_YEAR = 0.5
OUTCOMES = (("attended", 0.88), ("no_show", 0.07), ("cancelled", 0.05))


def write_history(h: History) -> int:
    """Bookings of the synthetic city over the period: each open slot of each resource gets a
    Poisson-like share of the city's visits (never above capacity), settled as attended, no-show
    or cancelled; future days stay active. Slots' counters match their active bookings."""
    session = h.session
    resources = list(session.scalars(select(Resource).where(Resource.active.is_(True)).order_by(Resource.id)))
    if not resources or h.persons <= 0:
        return 0
    rng = random.Random(h.seed * 7919 + 40)
    cal = calendar(session)
    today = clock.today()
    per_day = h.persons * BOOKINGS_PER_PERSON_YEAR * h.rate / 365.0
    written = 0
    day = h.start
    while day <= h.end:
        plan: list[tuple[Resource, str, str, int]] = []
        for r in resources:
            times = service.slot_times(r.rules, service.day_spans(r.rules, day, cal))
            if not times:
                continue
            mean = per_day / len(resources) / len(times)
            for start, end in times:
                n = min(int(r.rules["capacity"]), _poisson(rng, mean))
                if n:
                    plan.append((r, start, end, n))
        if plan:
            outcomes: list[list[str]] = []
            slot_rows = []
            for r, start, end, n in plan:
                got = ["active"] * n if day >= today else [_outcome(rng) for _ in range(n)]
                outcomes.append(got)
                slot_rows.append({"resource_id": r.id, "day": day, "start": start, "end": end,
                                  "capacity": int(r.rules["capacity"]),
                                  "booked": sum(1 for o in got if o != "cancelled")})
            ids = list(session.scalars(insert(Slot).returning(Slot.id, sort_by_parameter_order=True), slot_rows))
            rows = []
            for (r, start, end, _n), got, slot_id in zip(plan, outcomes, ids, strict=True):
                for seq, status in enumerate(got, 1):
                    rows.append({"resource_id": r.id, "slot_id": slot_id, "account_id": None, "day": day,
                                 "start": start, "end": end, "seq": seq, "status": status, "item_id": None,
                                 "region_code": r.region_code, "booked_by": "system:history", "at_counter": False,
                                 "created_at": dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)})
            session.execute(insert(Booking), rows)
            written += len(rows) + len(slot_rows)
        day += dt.timedelta(days=1)
    return written


def _outcome(rng: random.Random) -> str:
    x = rng.random()
    for status, share in OUTCOMES:
        if x < share:
            return status
        x -= share
    return "attended"


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method (means here are small)."""
    if mean <= 0:
        return 0
    import math

    limit, k, p = math.exp(-min(mean, 30.0)), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


PART = HistoryPart(key="appointments.bookings", order=40, write=write_history)
