"""Working-day arithmetic with the official holiday schedule."""

from __future__ import annotations

import datetime as dt

from tongban.core.timeutil import WorkCalendar, local

D = dt.date
cal = WorkCalendar()


def test_national_day_week_is_not_counted() -> None:
    # 2026-09-30 is a Wednesday; 10-01..10-07 are the National Day holiday.
    assert not cal.is_workday(D(2026, 10, 1))
    assert cal.add_working_days(D(2026, 9, 30), 1) > D(2026, 10, 7)


def test_adjusted_workday_on_a_weekend_counts() -> None:
    # 2026-09-20 (Sunday) is an adjusted workday (调休) for the 2026 National Day holiday.
    weekend_workdays = [D(2026, 9, 20), D(2026, 10, 10)]
    assert any(cal.is_workday(d) and d.weekday() >= 5 for d in weekend_workdays)


def test_counting_starts_the_next_day() -> None:
    monday = D(2026, 11, 16)
    assert cal.add_working_days(monday, 0) == monday
    assert cal.add_working_days(monday, 1) == D(2026, 11, 17)
    assert cal.add_working_days(monday, 5) == D(2026, 11, 23)
    assert cal.working_days_between(monday, D(2026, 11, 23)) == 5
    assert cal.working_days_between(D(2026, 11, 23), monday) == -5


def test_unknown_year_falls_back_to_weekdays_and_says_so() -> None:
    day = D(2031, 3, 3)
    assert not cal.is_known(day)
    assert cal.is_workday(day) and not cal.is_workday(D(2031, 3, 1))


def test_overrides_win() -> None:
    c = WorkCalendar(holidays=[D(2031, 3, 3)], workdays=[D(2031, 3, 1)])
    assert not c.is_workday(D(2031, 3, 3)) and c.is_workday(D(2031, 3, 1)) and c.is_known(D(2031, 3, 1))


def test_local_time_is_shanghai() -> None:
    assert local(dt.datetime(2026, 1, 1, 16, 30, tzinfo=dt.UTC)).date() == D(2026, 1, 2)
