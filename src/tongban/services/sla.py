"""Time limits of tasks (时限): the clock starts when a task becomes ready (or is answered after
补正) and counts working days from the next day, holidays skipped and adjusted workdays (调休)
counted, by the one working-day module (`core.timeutil`). A due date counted through a year with
no known schedule is an estimate (Monday–Friday) and says so (`due_estimated`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tongban.core.clock import local_date as local_date  # the clock's, kept under the name callers use
from tongban.core.timeutil import DEFAULT_CALENDAR, WorkCalendar


def start_clock(task: Any, item: dict[str, Any], now: dt.datetime, calendar: WorkCalendar = DEFAULT_CALENDAR) -> None:
    """(Re)start `task`'s clock at `now`: promised and statutory due dates in working days; the
    deadline flags of an earlier run of the clock are cleared."""
    start = local_date(now)
    task.warned_at = None
    task.overdue_at = None
    task.clock_started_on = start
    task.due_date = calendar.add_working_days(start, int(item["promised_days"]))
    task.statutory_due_date = calendar.add_working_days(start, int(item["statutory_days"]))


def estimated_years(task: Any, calendar: WorkCalendar = DEFAULT_CALENDAR) -> list[int]:
    """The years without a schedule that `task`'s due dates were counted through (none: exact)."""
    return calendar.unknown_years(task.clock_started_on, task.due_date, task.statutory_due_date)


def clock(task: Any, today: dt.date, calendar: WorkCalendar = DEFAULT_CALENDAR) -> dict[str, Any]:
    """Where a running task stands: working days used of the promise, warning at 80 %, overdue."""
    if task.clock_started_on is None or task.due_date is None:
        return {"running": False}
    allowed = calendar.working_days_between(task.clock_started_on, task.due_date)
    used = calendar.working_days_between(task.clock_started_on, today)
    return {"running": task.status in ("ready", "claimed"), "started_on": task.clock_started_on.isoformat(),
            "due_date": task.due_date.isoformat(), "working_days_allowed": allowed, "working_days_used": used,
            "warning": _warning(allowed, used), "overdue": today > task.due_date,
            "due_estimated": bool(estimated_years(task, calendar))}


def _warning(allowed: int, used: int) -> bool:
    # 80 % in integers (5·used ≥ 4·allowed): a float 0.8 × 15 is 12.000000000000002, not 12.
    return allowed > 0 and 5 * used >= 4 * allowed


def warning_due_dates(started_on: dt.date, today: dt.date,
                      calendar: WorkCalendar = DEFAULT_CALENDAR) -> tuple[dt.date, dt.date] | None:
    """The due dates [first, stop) for which a clock started on `started_on` is at its 80 % warning
    on `today` (`clock`'s `warning`): the promise allows at least one working day, and at most
    ⌊5·used/4⌋ of them. None when no due date would warn. Lets a query test the warning in SQL
    (`due_date >= first AND due_date < stop`) instead of row by row."""
    used = calendar.working_days_between(started_on, today)
    most = (5 * used) // 4
    if most < 1:
        return None
    return calendar.add_working_days(started_on, 1), calendar.add_working_days(started_on, most + 1)
