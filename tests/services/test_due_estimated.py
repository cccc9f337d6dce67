"""Due dates in a year without a working-day schedule: counted Monday–Friday and flagged on the
task (API `due_estimated`, a note on the workbench task page) and in `/readyz` (`calendar:
degraded`, still 200); a loaded schedule for that year (made up here: 2031) recounts the running
tasks, ends the flag, skips its holidays and counts its adjusted Saturday. The clock is set,
never the wall clock."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.core.test_workdays import SCHEDULE_2031
from tests.factories import web_login
from tests.services.conftest import DEMO_PASSWORD, birth_data
from tongban.core import workdays
from tongban.core.audit.models import AuditEvent
from tongban.services import certificates

D = dt.date


def bearer(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A fresh token (the clock moves between logins, so none is cached), without the page login."""
    client.cookies.clear()
    resp = client.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def birth_certificate_task(client, key: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/applications", headers={**bearer(client, "resident.zhang"), "Idempotency-Key": key},
                       json={"onething_id": "onething.birth", "data": birth_data()})
    assert resp.status_code == 201, resp.text
    task = next(t for t in resp.json()["tasks"] if t["item_id"] == "item.birth-certificate")
    assert read_task(client, task)["due_estimated"] == task["due_estimated"]
    return task


def read_task(client, task: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    read = client.get(f"/api/v1/applications/{task['application_id']}", headers=bearer(client, "officer.health"))
    found: dict[str, Any] = next(t for t in read.json()["tasks"] if t["id"] == task["id"])
    return found


def task_page(client, task_id: int) -> str:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    assert web_login(client, "officer.health", DEMO_PASSWORD).status_code == 303
    page = client.get(f"/workbench/tasks/{task_id}")
    assert page.status_code == 200
    text: str = page.text
    return text


def load_2031(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "2031.yaml"
    path.write_text(SCHEDULE_2031, encoding="utf-8")
    with demo.unit_of_work() as s:
        workdays.load_schedule(s, schedule=workdays.read_schedule_file(path), source="file:2031.yaml", actor="test")


def test_a_due_date_in_a_year_without_schedule_is_flagged_until_the_year_is_loaded(  # type: ignore[no-untyped-def]
        client, demo, clock, tmp_path: Path) -> None:
    clock.set(D(2031, 1, 17))  # a Friday
    guessed = birth_certificate_task(client, "guess")
    assert guessed["due_date"] == "2031-01-20"  # Monday: Saturday 18th is not counted on a guess
    assert guessed["due_estimated"] is True and guessed["clock"]["due_estimated"] is True
    page = task_page(client, guessed["id"])
    assert 'id="due-estimated"' in page and "2031" in page.split('id="due-estimated"')[1].split("</p>")[0]

    load_2031(demo, tmp_path)
    recounted = read_task(client, guessed)
    assert (recounted["due_date"], recounted["due_estimated"]) == ("2031-01-18", False)  # counted again
    with demo.unit_of_work() as s:
        events = {e.subject: json.loads(e.details) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(("task.due_recounted", "calendar.load"))))}
    assert events[f"task:{guessed['id']}"]["due_date"] == ["2031-01-20", "2031-01-18"]
    assert events["calendar:2031"]["recounted"] >= 1
    exact = birth_certificate_task(client, "exact")
    assert exact["due_date"] == "2031-01-18"  # the adjusted Saturday (调休) counts
    assert exact["due_estimated"] is False
    assert 'id="due-estimated"' not in task_page(client, exact["id"])

    clock.set(D(2031, 1, 21))  # the Tuesday before the Spring Festival
    assert birth_certificate_task(client, "festival")["due_date"] == "2031-01-29"  # 22–28 skipped


def test_a_due_date_in_a_known_year_is_not_flagged(client, demo, clock) -> None:  # type: ignore[no-untyped-def]
    clock.set(dt.datetime(2025, 9, 30, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    task = birth_certificate_task(client, "known")
    assert (task["due_date"], task["due_estimated"]) == ("2025-10-09", False)  # National Day skipped
    assert task["clock"]["started_on"] == "2025-09-30"  # the clock started on the clock's day


def test_readyz_says_the_calendar_is_degraded_and_stays_ready(client, demo, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clock.set(D(2026, 6, 1))  # due dates set today end in 2026, which the library knows
    body = client.get("/readyz").json()
    assert body["checks"]["calendar"] == "ok" and body["checks"]["calendar_missing"] == []
    clock.set(D(2026, 12, 6))  # due dates set today reach 2027
    resp = client.get("/readyz")
    assert resp.status_code == 200 and resp.json()["status"] == "ok"
    assert resp.json()["checks"]["calendar"] == "degraded" and resp.json()["checks"]["calendar_missing"] == [2027]
    clock.set(D(2030, 12, 20))
    load_2031(demo, tmp_path)
    assert client.get("/readyz").json()["checks"]["calendar_missing"] == [2030]


def test_certificate_expiry_is_judged_on_the_clock_s_day(clock) -> None:
    doc = {"valid_to": "2027-01-01"}
    clock.set(D(2027, 1, 1))
    assert certificates.verify_offline(doc, {})["status"] == "valid"  # its last day
    clock.set(D(2027, 1, 2))
    assert certificates.verify_offline(doc, {})["status"] == "expired"
