"""Inboxes over HTTP: a staff member sees a deadline warning (80 %, overdue) and new tasks for
their queue; a resident's message about an application names the item and the step and links to
it; reading and following a link mark it read; nobody reads another's messages."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from tests.factories import make_staff
from tests.services.conftest import birth_data
from tests.services.test_pages import _csrf, _post, as_user
from tongban.core.timeutil import WorkCalendar
from tongban.messages.models import Message
from tongban.services.deadlines import flag_deadlines
from tongban.services.models import Task

CAL = WorkCalendar()


def _submit(client, login) -> dict:  # type: ignore[no-untyped-def, type-arg]
    resp = client.post("/api/v1/applications", headers={**login("resident.zhang"), "Idempotency-Key": "k"},
                       json={"onething_id": "onething.birth", "data": birth_data()})
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


def _inbox(client, headers, lang: str = "en") -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    r = client.get("/api/v1/me/messages", headers={**headers, "Accept-Language": lang})
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


def test_a_staff_member_sees_a_deadline_warning_in_their_inbox(client, login, demo, clock) -> None:  # type: ignore[no-untyped-def]
    clock.set(dt.date(2025, 9, 22))
    app = _submit(client, login)
    task_id = next(t["id"] for t in app["tasks"] if t["item_id"] == "item.birth-certificate")
    officer = login("officer.health")
    new = [m for m in _inbox(client, officer) if m["kind"] == "task.new"]
    assert [m["link"] for m in new] == [f"/workbench/tasks/{task_id}"]  # a new task for the queue
    assert "birth medical certificate" in new[0]["body"]
    with demo.unit_of_work() as s:
        task = s.get_one(Task, task_id)
        task.clock_started_on, task.due_date = dt.date(2025, 9, 22), dt.date(2025, 9, 28)
    for day in (dt.date(2025, 9, 26), dt.date(2025, 9, 29)):  # 80 % of 5 working days, then past due
        with demo.unit_of_work() as s:
            flag_deadlines(s, now=dt.datetime(day.year, day.month, day.day, 2, tzinfo=dt.UTC), calendar=CAL)
    warnings = {m["kind"]: m for m in _inbox(client, officer) if m["kind"].startswith("task.") and m["kind"] != "task.new"}
    assert set(warnings) == {"task.deadline_warning", "task.overdue"}
    warning = warnings["task.deadline_warning"]
    assert warning["title"] == "A task has used 80 % of its time limit"
    assert "4 of 5 working days" in warning["body"] and "2025-09-28" in warning["body"]
    assert warning["link"] == f"/workbench/tasks/{task_id}" and warning["read_at"] is None
    assert warnings["task.overdue"]["urgent"] is True
    # Another department's officer is not told; the applicant is not told of staff deadlines.
    assert not [m for m in _inbox(client, login("officer.police")) if m["kind"] == "task.deadline_warning"]
    assert not [m for m in _inbox(client, login("resident.zhang")) if m["kind"].startswith("task.deadline")]
    # The workbench page shows it, in Chinese, with its link.
    as_user(client, "officer.health")
    page = client.get("/workbench/messages")
    assert page.status_code == 200 and "办件即将超期（已用时限80%）" in page.text
    assert f'href="/workbench/messages/{warning["id"]}"' in page.text
    opened = client.get(f"/workbench/messages/{warning['id']}")
    assert opened.status_code == 200 and f'href="/workbench/tasks/{task_id}"' in opened.text
    assert [m for m in _inbox(client, officer) if m["id"] == warning["id"]][0]["read_at"] is not None


def test_a_claimed_task_warns_only_its_officer(client, login, demo, clock) -> None:  # type: ignore[no-untyped-def]
    clock.set(dt.date(2025, 9, 22))
    app = _submit(client, login)
    task_id = next(t["id"] for t in app["tasks"] if t["item_id"] == "item.birth-certificate")
    officer = login("officer.health")
    with demo.unit_of_work() as s:  # another officer of the department holds the task
        other = make_staff(s, "officer.health2", department_id="dept.haishu.health", roles=["officer"])
        task = s.get_one(Task, task_id)
        task.clock_started_on, task.due_date = dt.date(2025, 9, 22), dt.date(2025, 9, 28)
        task.status, task.assignee_account_id = "claimed", other.id
        flag_deadlines(s, now=dt.datetime(2025, 9, 26, 2, tzinfo=dt.UTC), calendar=CAL)
    assert [m["kind"] for m in _inbox(client, officer)].count("task.deadline_warning") == 0
    with demo.unit_of_work() as s:
        assert [m.kind for m in s.scalars(select(Message).where(Message.account_id == other.id))] == [
            "task.deadline_warning"]


def test_a_resident_reads_a_message_that_names_the_item_and_the_step(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app = _submit(client, login)
    zhang = login("resident.zhang")
    [m] = _inbox(client, zhang, "zh")
    assert m["kind"] == "application.submitted" and m["title"] == "您的申请已提交"
    assert "出生一件事" in m["body"] and "已提交，等待部门受理" in m["body"]
    assert m["link"] == f"/portal/applications/{app['id']}"
    [en] = _inbox(client, zhang, "en")
    assert "submitted, waiting for the departments" in en["body"]
    assert client.get("/api/v1/me/messages/unread", headers=zhang).json() == {"unread": 1}
    # Nobody else reads or marks it.
    wang = login("resident.wang")
    assert client.post(f"/api/v1/me/messages/{m['id']}/read", headers=wang).status_code == 404
    assert client.post(f"/api/v1/me/messages/{m['id']}/read", headers=login("officer.health")).status_code == 404
    read = client.post(f"/api/v1/me/messages/{m['id']}/read", headers=zhang)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert client.get("/api/v1/me/messages/unread", headers=zhang).json() == {"unread": 0}
    assert client.get("/api/v1/me/messages?unread=true", headers=zhang).json()["items"] == []


def test_the_portal_inbox_links_through_and_marks_read(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app = _submit(client, login)
    as_user(client, "resident.zhang")
    page = client.get("/portal/messages")
    assert page.status_code == 200 and "出生一件事" in page.text and 'class="card message unread"' in page.text
    link = re.search(r'href="(/portal/messages/(\d+))"', page.text)
    assert link
    r = client.get(link[1])
    assert r.status_code == 200 and f'href="/portal/applications/{app["id"]}"' in r.text and "查看详情" in r.text
    assert 'class="card message unread"' not in client.get("/portal/messages").text
    # Another resident's message page is refused; staff have no portal inbox.
    as_user(client, "resident.wang")
    assert client.get(link[1], follow_redirects=False).status_code == 404
    as_user(client, "officer.health")
    assert client.get("/portal/messages", follow_redirects=False).status_code == 403


def test_the_staff_inbox_needs_sign_in_and_csrf(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    _submit(client, login)
    assert client.get("/api/v1/me/messages").status_code == 401
    csrf = as_user(client, "officer.health")
    page = client.get("/workbench/messages")
    mid = re.search(r'action="/workbench/messages/(\d+)/read"', page.text)
    assert mid
    assert _post(client, f"/workbench/messages/{mid[1]}/read").status_code == 403  # no token
    ok = _post(client, f"/workbench/messages/{mid[1]}/read", data={"csrf_token": _csrf(page.text) or csrf})
    assert ok.status_code == 303
    with demo.unit_of_work() as s:
        assert s.scalars(select(Task)).first() is not None
