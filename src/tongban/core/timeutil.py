"""Time: store UTC, show Asia/Shanghai; working-day arithmetic (one module for the whole system).

Working days follow the State Council holiday schedule with adjusted workdays (调休), from the
`chinese-calendar` package. A year the package does not know yet (the schedule is published
each November or December) falls back to Monday–Friday and is reported as provisional; an
operator can add the published schedule as overrides (`WorkCalendar(holidays=…, workdays=…)`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local(ts: dt.datetime) -> dt.datetime:
    """A UTC timestamp as Asia/Shanghai wall time."""
    return ts.astimezone(SHANGHAI)


def today_local() -> dt.date:
    return utcnow().astimezone(SHANGHAI).date()


class WorkCalendar:
    """Which dates are working days."""

    def __init__(self, holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = ()) -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self._memo: dict[dt.date, bool] = {}  # is_workday answers: the schedule of a date never changes

    def is_known(self, day: dt.date) -> bool:
        """Is the official schedule for this date's year known (not a weekday guess)?"""
        if day in self.holidays or day in self.workdays:
            return True
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            return False
        return True

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
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The date `days` working days after `start`, counting from the next day (法定/承诺时限).

        `add_working_days(d, 0)` is `d` itself (即办件: the same day).
        """
        if days < 0:
            raise ValueError("days must be ≥ 0")
        day = start
        left = days
        while left:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (negative when `end` is earlier)."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count


DEFAULT_CALENDAR = WorkCalendar()
