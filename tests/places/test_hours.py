"""Opening hours with the working-day calendar: public holidays close what closes on holidays,
a weekend day worked (调休) opens with Monday's hours, the API says open now by the one clock."""

from __future__ import annotations

import datetime as dt

import pytest

from tongban.core.clock import SHANGHAI
from tongban.core.errors import Invalid
from tongban.core.timeutil import WorkCalendar
from tongban.places import service

HALL = {"weekly": {d: ["08:30-12:00", "13:30-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": "closed"}
CLINIC = {"weekly": {**{d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}, "sat": ["08:00-12:00"]},
          "holidays": "open"}
CAL = WorkCalendar(holidays=[dt.date(2025, 10, 1)], workdays=[dt.date(2025, 9, 28)])


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def test_weekday_spans_and_the_lunch_break() -> None:
    assert service.open_state(HALL, at(2025, 6, 11, 10), CAL).open_now
    assert not service.open_state(HALL, at(2025, 6, 11, 12, 30), CAL).open_now
    assert not service.open_state(HALL, at(2025, 6, 11, 17, 0), CAL).open_now  # the end is exclusive
    assert service.open_state(HALL, at(2025, 6, 11, 16, 59), CAL).open_now
    assert service.open_state(HALL, at(2025, 6, 14, 10), CAL).today == []  # Saturday


def test_holidays_and_adjusted_workdays_from_the_calendar() -> None:
    holiday = service.open_state(HALL, at(2025, 10, 1, 10), CAL)  # a Wednesday off
    assert holiday.holiday and not holiday.open_now and holiday.today == []
    assert service.open_state(CLINIC, at(2025, 10, 1, 10), CAL).open_now  # open on holidays
    worked = service.open_state(HALL, at(2025, 9, 28, 10), CAL)  # a Sunday worked (调休)
    assert worked.adjusted_workday and worked.open_now and worked.today == HALL["weekly"]["mon"]
    assert not service.open_state(HALL, at(2025, 6, 15, 10), WorkCalendar()).open_now  # a plain Sunday
    # The library knows 2025-09-28 was worked (国庆 调休) without any override.
    assert service.open_state(HALL, at(2025, 9, 28, 10), WorkCalendar()).open_now
    # The time is read in Asia/Shanghai whatever zone it is given in: 02:00 UTC is 10:00 there.
    assert service.open_state(HALL, dt.datetime(2025, 6, 11, 2, 0, tzinfo=dt.UTC), CAL).open_now


def test_hours_text_of_imports() -> None:
    assert service.parse_hours_text("mon-wed 08:00-12:00,13:00-17:00; sun 09:00-10:00") == {
        "mon": ["08:00-12:00", "13:00-17:00"], "tue": ["08:00-12:00", "13:00-17:00"],
        "wed": ["08:00-12:00", "13:00-17:00"], "sun": ["09:00-10:00"]}
    for bad in ("fri-mon 08:00-12:00", "someday 08:00-12:00", "mon 8-12", "mon 12:00-08:00"):
        with pytest.raises(Invalid):
            service.parse_hours_text(bad)


def test_the_api_says_open_now_by_the_clock(pack, client, clock) -> None:  # type: ignore[no-untyped-def]
    # 10:00 on Wednesday 2025-06-11 (the clock fixture): the demo's service halls are open.
    r = client.get("/api/v1/places", params={"category": "service_hall"})
    assert r.status_code == 200
    halls = r.json()["items"]
    assert len(halls) == 5 and all(h["hours"]["open_now"] for h in halls)
    clock.set(dt.datetime(2025, 6, 11, 20, 0, tzinfo=SHANGHAI))
    r = client.get("/api/v1/places", params={"category": "service_hall"})
    assert not any(h["hours"]["open_now"] for h in r.json()["items"])
    paged = client.get("/api/v1/places", params={"limit": 2})
    assert len(paged.json()["items"]) == 2 and paged.json()["next_cursor"]
