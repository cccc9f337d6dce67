"""Deadline watch: flags at 80 % of the promised working days and past due, once each, with an
audit event, a timeline entry and the task's `warning`/`overdue` in the workbench; a frozen
clock is injected; a 补正 clears the flags with the clock."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.services.conftest import birth_data
from tongban.core.audit.models import AuditEvent
from tongban.core.jobs.registry import get_handler, load_modules, schedules
from tongban.core.timeutil import WorkCalendar
from tongban.services.deadlines import flag_deadlines
from tongban.services.models import Task

CAL = WorkCalendar()  # the real calendar: 2025-09-28 (Sunday) is an adjusted workday before 国庆


def at(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


def setup_task(client, login, demo) -> int:  # type: ignore[no-untyped-def]
    """The birth certificate task, its clock moved to start Monday 2025-09-22 with 5 working days."""
    resp = client.post("/api/v1/applications", headers={**login("resident.zhang"), "Idempotency-Key": "k"},
                       json={"onething_id": "onething.birth", "data": birth_data()})
    task_id = next(t["id"] for t in resp.json()["tasks"] if t["item_id"] == "item.birth-certificate")
    with demo.unit_of_work() as s:
        for t in s.scalars(select(Task)):
            t.clock_started_on, t.due_date = (None, None) if t.id != task_id else (dt.date(2025, 9, 22),
                                                                                   dt.date(2025, 9, 28))
    return int(task_id)


def flags(demo) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with demo.unit_of_work() as s:
        return [(e.action, e.subject) for e in s.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(("task.deadline_warning", "task.overdue"))).order_by(AuditEvent.id))]


def run(demo, day: dt.date) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with demo.unit_of_work() as s:
        return flag_deadlines(s, now=at(day), calendar=CAL)


def test_a_task_is_warned_at_80_percent_and_flagged_overdue_once_each(client, login, demo, clock) -> None:  # type: ignore[no-untyped-def]
    clock.set(dt.date(2025, 9, 22))  # the Monday the task's clock starts
    task_id = setup_task(client, login, demo)
    # 5 working days after Mon 22 Sep: 23, 24, 25, 26 and Sunday 28 (调休); 80 % = the 4th, Fri 26.
    assert run(demo, dt.date(2025, 9, 25)) == {"warning": 0, "overdue": 0}
    assert run(demo, dt.date(2025, 9, 26)) == {"warning": 1, "overdue": 0}
    assert run(demo, dt.date(2025, 9, 27)) == {"warning": 0, "overdue": 0}  # flagged once
    assert run(demo, dt.date(2025, 9, 28)) == {"warning": 0, "overdue": 0}  # the due date itself
    assert run(demo, dt.date(2025, 9, 29)) == {"warning": 0, "overdue": 1}
    assert run(demo, dt.date(2025, 10, 9)) == {"warning": 0, "overdue": 0}
    assert flags(demo) == [("task.deadline_warning", f"task:{task_id}"), ("task.overdue", f"task:{task_id}")]
    queue = client.get("/api/v1/workbench/tasks", headers=login("officer.health")).json()["items"]
    [mine] = [t for t in queue if t["id"] == task_id]
    assert mine["warning"] is True and mine["overdue"] is True


def test_a_returned_task_is_not_flagged_and_a_flag_lands_in_the_timeline(client, login, demo, clock) -> None:  # type: ignore[no-untyped-def]
    clock.set(dt.date(2025, 9, 22))  # the Monday the task's clock starts
    task_id = setup_task(client, login, demo)
    health = login("officer.health")
    task = next(t for t in client.get("/api/v1/workbench/tasks", headers=health).json()["items"] if t["id"] == task_id)
    resp = client.post(f"/api/v1/workbench/tasks/{task_id}/decision", headers=health,
                       json={"decision": "return", "reason": "请补充出生地点", "version": task["version"]})
    assert resp.status_code == 200
    assert run(demo, dt.date(2025, 9, 29)) == {"warning": 0, "overdue": 0}  # returned: the clock is stopped
    with demo.unit_of_work() as s:
        t = s.get_one(Task, task_id)
        t.status = "claimed"  # as if answered and taken up again, with the old clock
    assert run(demo, dt.date(2025, 9, 29)) == {"warning": 1, "overdue": 1}
    app_id = task["application_id"]
    timeline = client.get(f"/api/v1/applications/{app_id}", headers=health).json()["timeline"]
    assert [e["kind"] for e in timeline if e["task_id"] == task_id][-2:] == ["task.deadline_warning", "task.overdue"]


def test_a_supplement_restarts_the_clock_and_clears_the_flags(client, login, demo, clock) -> None:  # type: ignore[no-untyped-def]
    clock.set(dt.date(2025, 9, 22))  # the Monday the task's clock starts
    task_id = setup_task(client, login, demo)
    run(demo, dt.date(2025, 9, 29))
    health = login("officer.health")
    task = next(t for t in client.get("/api/v1/workbench/tasks", headers=health).json()["items"] if t["id"] == task_id)
    client.post(f"/api/v1/workbench/tasks/{task_id}/decision", headers=health,
                json={"decision": "return", "reason": "请补充", "version": task["version"]})
    app_id = task["application_id"]
    clock.set(dt.date(2025, 10, 9))  # answered after National Day (with a fresh login: days have passed)
    resp = client.post(f"/api/v1/applications/{app_id}/tasks/{task_id}/supplement", headers=login("resident.zhang"),
                       json={"data": {"child_birth_place": "宁波市第一医院"}})
    assert resp.status_code == 200 and resp.json()["warning"] is False and resp.json()["overdue"] is False
    assert resp.json()["clock"]["started_on"] == "2025-10-09"  # the clock restarts on the clock's day


def test_the_deadline_job_is_scheduled_and_registered() -> None:
    load_modules(())
    assert any(s.kind == "services.deadlines" for s in schedules())
    assert get_handler("services.deadlines") is not None
