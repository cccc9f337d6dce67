"""The cockpit figures of appointments equal their straight checks (tests/cockpit/straight), on
bookings made through the service and on the service history's; the history part is
deterministic for a seed and leaves every slot's counter equal to its active bookings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select

from tests.appointments.conftest import HALL, THU
from tests.cockpit.straight.appointments import STRAIGHT
from tongban.appointments import indicators, service
from tongban.appointments.models import Booking, Slot
from tongban.core import slices
from tongban.core.indicators import HISTORY, INDICATORS, History


def _computed(session, key, day_from, day_to):  # type: ignore[no-untyped-def]
    ind = next(i for i in indicators.INDICATORS if i.key == key)
    return {(c.day, c.region, c.key): dict(c.values) for c in ind.compute(session, day_from=day_from, day_to=day_to)}


def test_indicators_are_contributed_with_a_straight_check(appt):  # type: ignore[no-untyped-def]
    published = [i for found in slices.contributed(INDICATORS) for i in (found if isinstance(found, tuple) else (found,))
                 if i.key.startswith("appointments.")]
    assert {i.key for i in published} == set(STRAIGHT) == {"appointments.bookings", "appointments.no_shows"}
    assert indicators.PART in slices.contributed(HISTORY) and indicators.PART.order == 40


def test_figures_equal_the_straight_checks(appt, who, clock):  # type: ignore[no-untyped-def]
    officer = who("officer.hrss")
    ids = []
    for name, start in (("resident.a", "09:00"), ("resident.b", "09:00"), ("resident.c", "10:00")):
        with appt.unit_of_work() as s:
            ids.append(service.book(s, principal=who(name), resource_id=HALL, day=THU, start=start).id)
    with appt.unit_of_work() as s:
        service.cancel(s, principal=who("resident.c"), booking_id=ids[2])
    clock.set(dt.date(2025, 6, 13))
    with appt.unit_of_work() as s:
        service.mark(s, principal=officer, booking_id=ids[0], outcome="no_show")
        service.mark(s, principal=officer, booking_id=ids[1], outcome="attended")
    with appt.unit_of_work() as s:
        got = _computed(s, "appointments.bookings", THU, THU)
        key = (THU, "330203003001", ("dept.haishu.hrss", "place.hall-haishu", HALL))
        assert got == {key: {"bookings": 2.0}}
        assert _computed(s, "appointments.no_shows", THU, THU) == {key: {"no_shows": 1.0, "settled": 2.0}}
        for k, fn in STRAIGHT.items():
            assert _computed(s, k, THU, THU) == fn(s, day_from=THU, day_to=THU)


def _history(db, seed: int) -> list[tuple]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        n = indicators.PART.write(History(session=s, seed=seed, start=dt.date(2025, 5, 1), end=dt.date(2025, 6, 20),
                                          persons=20_000))
        assert n > 0
    with db.unit_of_work() as s:
        return [tuple(r) for r in s.execute(select(Booking.resource_id, Booking.day, Booking.start, Booking.seq,
                                                   Booking.status).order_by(Booking.id))]


def test_history_is_deterministic_consistent_and_counted_alike(appt):  # type: ignore[no-untyped-def]
    first = _history(appt, 7)
    with appt.unit_of_work() as s:
        s.execute(delete(Booking))
        s.execute(delete(Slot))
    assert _history(appt, 7) == first
    statuses = {row[4] for row in first}
    assert {"attended", "no_show", "cancelled", "active"} <= statuses
    # the hall is closed at weekends and on the May Day (May 1–5) and Dragon Boat (June 2) holidays
    closed = {dt.date(2025, 5, d) for d in range(1, 6)} | {dt.date(2025, 6, 2)}
    assert not any(row[0] == HALL and (row[1].weekday() >= 5 or row[1] in closed) for row in first)
    assert any(row[0] == HALL for row in first)
    with appt.unit_of_work() as s:
        active = dict(s.execute(select(Booking.slot_id, func.count()).where(Booking.status != "cancelled")
                                .group_by(Booking.slot_id)).all())
        for slot in s.scalars(select(Slot)):
            assert slot.booked == active.get(slot.id, 0) <= slot.capacity
        a, b = dt.date(2025, 5, 1), dt.date(2025, 6, 20)
        for k, fn in STRAIGHT.items():
            assert _computed(s, k, a, b) == fn(s, day_from=a, day_to=b)
