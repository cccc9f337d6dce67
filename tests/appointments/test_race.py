"""No overbooking however many book at once: 50 residents, each in a thread with its own session
(its own connection and transaction), race for the last 5 places of a slot; and one resident
racing themself for a day's single booking. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from tests.appointments.conftest import HALL, THU, id_number
from tests.factories import make_resident
from tongban.appointments import service
from tongban.appointments.models import Booking
from tongban.core.errors import Conflict
from tongban.core.identity import service as identity

RACERS = 50


def _race(db, principals: list[Any], start: str = "09:00") -> list[str]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(len(principals))

    def one(principal: Any) -> str:
        barrier.wait()
        try:
            with db.unit_of_work() as s:
                service.book(s, principal=principal, resource_id=HALL, day=THU, start=start)
            return "booked"
        except Conflict as exc:
            return f"refused:{exc.field}"

    with ThreadPoolExecutor(len(principals)) as pool:
        return list(pool.map(one, principals))


def test_fifty_at_once_for_the_last_five_places_give_exactly_five(appt, who):  # type: ignore[no-untyped-def]
    with appt.unit_of_work() as s:
        service.update_rules(s, principal=who("admin.hrss"), resource_id=HALL, capacity=8)
    for early in ("resident.a", "resident.b", "resident.c"):  # 3 of 8 taken: 5 left
        with appt.unit_of_work() as s:
            service.book(s, principal=who(early), resource_id=HALL, day=THU, start="09:00")
    with appt.unit_of_work() as s:
        principals = [identity.principal_for_account(s, make_resident(s, f"racer.{i}", id_number=id_number(100 + i)))
                      for i in range(RACERS)]
    outcomes = _race(appt, principals)
    assert outcomes.count("booked") == 5, outcomes
    assert outcomes.count("refused:start") == RACERS - 5, outcomes
    with appt.unit_of_work() as s:
        assert service.counts(s, HALL, THU) == {"active": 8, "booked": 8}
        view = service.day_view(s, service.resource(s, HALL), THU)
        assert next(x.left for x in view.slots if x.start == "09:00") == 0


def test_one_resident_racing_themself_gets_one_booking_of_the_day(appt, who):  # type: ignore[no-untyped-def]
    a = who("resident.a")
    # ten requests of one resident at once, each for a different slot of the same day
    starts = ["09:00", "09:30", "10:00", "10:30", "11:00", "13:30", "14:00", "14:30", "15:00", "15:30"]
    barrier = threading.Barrier(len(starts))

    def one(start: str) -> str:
        barrier.wait()
        try:
            with appt.unit_of_work() as s:
                service.book(s, principal=a, resource_id=HALL, day=THU, start=start)
            return "booked"
        except Conflict:
            return "refused"

    with ThreadPoolExecutor(len(starts)) as pool:
        outcomes = list(pool.map(one, starts))
    assert outcomes.count("booked") == 1, outcomes
    with appt.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Booking).where(Booking.status == "active")) == 1
        assert service.counts(s, HALL, THU) == {"active": 1, "booked": 1}
