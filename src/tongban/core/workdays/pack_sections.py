"""The pack section `calendar/*.yaml`: one file per year's working-day schedule."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.core.packs.loader import Changes, Pack, PackFile, register_section
from tongban.core.workdays.schedule import CalendarFile, check_calendar_file, load_schedule


def apply_calendar(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    changes = Changes()
    for pf in files:
        changes.count(load_schedule(session, schedule=pf.model, source=f"pack:{pack.id}@{pack.version}:{pf.path}",
                                    actor="system:pack"))
    return changes


register_section("calendar", CalendarFile, files=("calendar/*.yaml", "calendar/*.yml"), apply=apply_calendar,
                 check=check_calendar_file, order=5, id_keys=("year",),
                 description="Working-day schedules (放假安排 with 调休), one file per year; they take "
                             "precedence over the chinese-calendar library.")
