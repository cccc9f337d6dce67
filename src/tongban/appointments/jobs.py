"""The day-before reminders of appointments: every half hour, tomorrow's active bookings not yet
reminded get an `appointment.reminder` message (inbox, then the channels the resident chose)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tongban.appointments import service
from tongban.core.jobs.registry import handler, schedule


@handler("appointments.remind")
def run_remind(session: Session, payload: dict[str, Any]) -> None:
    service.remind_due(session)


schedule("appointments.remind", "appointments.remind", interval_seconds=1800)
