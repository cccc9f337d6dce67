"""Working-day arithmetic (one module for the whole system): which dates are working days, and
counting them for time limits (时限) and 公示 periods.

A year's schedule (holidays and adjusted workdays, 调休) comes, in this order, from a schedule an
operator loaded (`tongban calendar load`, or a pack's `calendar/` section: `core.workdays`),
then from the `chinese-calendar` package (2004–2026 in 1.11). A year neither knows is counted
Monday–Friday: an *estimate*, which callers flag (`WorkCalendar.estimated`) and which is logged
once per year per process.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import chinese_calendar

# The clock's functions under the names the models and services have long imported: one clock.
from tongban.core.clock import SHANGHAI as SHANGHAI
from tongban.core.clock import local as local
from tongban.core.clock import now as utcnow
from tongban.core.clock import today as today_local

__all__ = ["SHANGHAI", "DEFAULT_CALENDAR", "WorkCalendar", "YearSchedule", "library_knows", "local",
           "today_local", "utcnow"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule: its holidays and its adjusted workdays (weekend days worked)."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]


@cache
def library_knows(year: int) -> bool:
    """Does the `chinese-calendar` package hold the State Council schedule of `year`?"""
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
        chinese_calendar.is_workday(dt.date(year, 12, 31))
    except NotImplementedError:
        return False
    return True


_warned_lock = threading.Lock()
_warned_years: set[int] = set()


def _warn_estimated(year: int) -> None:
    """Tell the operator, once per year per process, that a year's working days are guessed."""
    with _warned_lock:
        if year in _warned_years:
            return
        _warned_years.add(year)
    log.warning("no working-day schedule for %s: counting Monday to Friday; load the published "
                "schedule with `tongban calendar load`", year, extra={"event": "calendar.degraded", "year": year})


class WorkCalendar:
    """Which dates are working days: loaded year schedules first, then the library, then Mon–Fri.

    `holidays` / `workdays` are single-date overrides (tests, one-off corrections)."""

    def __init__(self, holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = (),
                 years: Mapping[int, YearSchedule] | None = None) -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.years: Mapping[int, YearSchedule] = dict(years or {})
        self._memo: dict[dt.date, bool] = {}  # is_workday answers: the schedule of a date never changes
        self._added: dict[tuple[dt.date, int], dt.date] = {}  # add_working_days answers, likewise
        self._between: dict[tuple[dt.date, dt.date], int] = {}  # working_days_between answers

    def knows_year(self, year: int) -> bool:
        """Is the official schedule of `year` known (loaded or in the library), not a weekday guess?"""
        return year in self.years or library_knows(year)

    def is_known(self, day: dt.date) -> bool:
        """Is the official schedule for this date's year known (not a weekday guess)?"""
        return day in self.holidays or day in self.workdays or self.knows_year(day.year)

    def unknown_years(self, start: dt.date | None, *ends: dt.date | None) -> list[int]:
        """The years without a known schedule that counting from `start` to the latest of `ends`
        went through: where that count is a Monday–Friday estimate (empty if it is exact)."""
        last = max((e for e in ends if e is not None), default=None)
        if start is None or last is None:
            return []
        return [y for y in range(min(start.year, last.year), max(start.year, last.year) + 1) if not self.knows_year(y)]

    def estimated(self, start: dt.date | None, *ends: dt.date | None) -> bool:
        """Was counting from `start` to any of `ends` done (partly) on a Monday–Friday guess?"""
        return bool(self.unknown_years(start, *ends))

    def is_workday(self, day: dt.date) -> bool:
        known = self._memo.get(day)
        if known is None:
            known = self._memo[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: dt.date) -> bool:
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        schedule = self.years.get(day.year)
        if schedule is not None:  # a loaded schedule wins over the library
            if day in schedule.holidays:
                return False
            return day in schedule.workdays or day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            _warn_estimated(day.year)
            return day.weekday() < 5

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The date `days` working days after `start`, counting from the next day (法定/承诺时限).

        `add_working_days(d, 0)` is `d` itself (即办件: the same day).
        """
        if days < 0:
            raise ValueError("days must be ≥ 0")
        known = self._added.get((start, days))
        if known is not None:
            return known
        day = start
        left = days
        while left:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        if len(self._added) < 1_000_000:
            self._added[(start, days)] = day
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (negative when `end` is earlier)."""
        if end < start:
            return -self.working_days_between(end, start)
        known = self._between.get((start, end))
        if known is not None:
            return known
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
        if len(self._between) < 1_000_000:
            self._between[(start, end)] = count
        return count


DEFAULT_CALENDAR = WorkCalendar()
"""The library's schedules only: for code without a database. With one, use
`tongban.core.workdays.calendar(session)`, which adds the loaded years."""
