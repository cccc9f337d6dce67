"""Working-day schedules per year (放假安排 with 调休) that an operator loads, from a file
(`tongban calendar load`) or a pack's `calendar/` section; they take precedence over the
`chinese-calendar` library in the one working-day module, `core.timeutil`."""

from tongban.core.workdays.schedule import (
    CalendarFile,
    calendar,
    load_schedule,
    missing_years,
    on_schedule_loaded,
    read_schedule_file,
    schedule_problems,
    stored_years,
)

__all__ = ["CalendarFile", "calendar", "load_schedule", "missing_years", "on_schedule_loaded", "read_schedule_file", "schedule_problems", "stored_years"]
