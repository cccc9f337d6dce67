"""The one staff queue (`services.queue`) behind the API and the workbench page: tab counts worked
out by the database over the whole queue (not the first 500 rows), the same tasks listed by both
faces, and only steps the officer may decide — each of which they can decide."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import insert, select

from tests.services.test_more_onethings import CHEN, apply, decide
from tests.services.test_pages import as_user, submit_birth, task_of
from tests.services.test_queue_levels import dibao_task
from tongban.core.identity.models import Account
from tongban.core.timeutil import today_local
from tongban.services import sla
from tongban.services.models import Task

COPIES = 640


def _page_listing(client, tab: str) -> tuple[set[int], dict[str, int]]:  # type: ignore[no-untyped-def]
    """Every task the page lists in `tab`, following its next-page links, and the tab counts."""
    url: str | None = f"/workbench/tasks?tab={tab}"
    listed: set[int] = set()
    counts: dict[str, int] = {}
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.text
        listed |= {int(x) for x in re.findall(r'href="/workbench/tasks/(\d+)"', page.text)}
        counts = {k: int(n) for k, n in re.findall(r'tab=(\w+)"[^>]*>[^<]*<span class="count">(\d+)</span>',
                                                   page.text)}
        more = re.search(r'href="(/workbench/tasks\?tab=\w+&amp;cursor=[^"]+)"', page.text)
        url = more.group(1).replace("&amp;", "&") if more else None
    return listed, counts


def _api_listing(client, headers, tab: str) -> set[int]:  # type: ignore[no-untyped-def]
    listed: set[int] = set()
    cursor = ""
    while True:
        r = client.get(f"/api/v1/workbench/tasks?tab={tab}&limit=200{cursor}", headers=headers)
        assert r.status_code == 200, r.text
        listed |= {t["id"] for t in r.json()["items"]}
        if not r.json()["next_cursor"]:
            return listed
        cursor = f"&cursor={r.json()['next_cursor']}"


def test_tab_counts_cover_the_whole_queue_and_both_faces_list_the_same_tasks(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    template = task_of(submit_birth(client, login, "big"), "item.birth-certificate")["id"]
    today = today_local()
    with demo.unit_of_work() as s:
        me = s.scalar(select(Account.id).where(Account.username == "officer.health"))
        t = s.get_one(Task, template)
        base: dict[str, Any] = {c: getattr(t, c) for c in ("application_id", "item_id", "department_id", "status",
                                                            "step_index", "requires", "inputs", "outputs")}
        shapes = [  # (clock started, due, assignee): overdue, near due (today is the due day), fine, mine
            (today - dt.timedelta(days=30), today - dt.timedelta(days=1), None),
            (today - dt.timedelta(days=30), today, None),
            (today, today + dt.timedelta(days=40), None),
            (today - dt.timedelta(days=2), today + dt.timedelta(days=40), me),
            (None, None, me),  # no clock: waiting, neither near due nor overdue
        ]
        s.execute(insert(Task), [{**base, "clock_started_on": shapes[i % 5][0], "due_date": shapes[i % 5][1],
                                  "assignee_account_id": shapes[i % 5][2]} for i in range(COPIES)])
    with demo.unit_of_work() as s:  # what each task's own clock says, row by row
        rows = list(s.scalars(select(Task).where(Task.item_id == "item.birth-certificate",
                                                 Task.status.in_(("ready", "claimed")))))
        expected: dict[str, set[int]] = {"ready": set(), "mine": set(), "near_due": set(), "overdue": set()}
        for task in rows:
            clock = sla.clock(task, today)
            expected["ready"].add(task.id)
            if task.assignee_account_id == me:
                expected["mine"].add(task.id)
            if clock.get("overdue"):
                expected["overdue"].add(task.id)
            elif clock.get("warning"):
                expected["near_due"].add(task.id)
    assert len(expected["ready"]) > 500 and len(expected["mine"]) > 0 and len(expected["near_due"]) > 0

    officer = login("officer.health")
    as_user(client, "officer.health")
    for tab, tasks in expected.items():
        listed, counts = _page_listing(client, tab)
        assert counts == {k: len(v) for k, v in expected.items()}, tab
        assert listed == tasks, tab
        assert _api_listing(client, officer, tab) == tasks, tab
    assert client.get("/api/v1/workbench/tasks?tab=nonsense", headers=officer).status_code == 422


def test_a_district_officer_lists_only_steps_they_can_decide_and_decides_each(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    chen = login("resident.chen")
    street, district = login("officer.mca.ximen"), login("officer.mca")
    at_street = apply(client, chen, "onething.assistance", CHEN, "queue-decide-1")
    at_district = apply(client, chen, "onething.assistance", CHEN, "queue-decide-2")
    decide(client, street, at_district["id"], "item.dibao")  # 受理
    decide(client, street, at_district["id"], "item.dibao")  # 审核: now the district's 审批
    street_task, district_task = dibao_task(client, chen, at_street["id"]), dibao_task(client, chen, at_district["id"])

    listed = client.get("/api/v1/workbench/tasks", headers=district).json()["items"]
    ids = {t["id"] for t in listed}
    assert district_task in ids and street_task not in ids
    as_user(client, "officer.mca")
    assert _page_listing(client, "ready")[0] == ids
    client.cookies.clear()
    for t in listed:  # every task listed is one this officer may decide
        r = client.post(f"/api/v1/workbench/tasks/{t['id']}/decision", headers=district,
                        json={"decision": "return", "reason": "请补充材料", "version": t["version"]})
        assert r.status_code == 200, (t, r.text)


def test_a_queue_cursor_that_is_no_task_id_is_refused_naming_the_cursor(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    """The queue pages with the shared cursor (core.paging): a cursor for an id beyond 64 bits, or
    one this server did not make, is a 422 naming `cursor` — not a database error."""
    import base64

    officer = login("officer.health")
    for raw in (str(2**64), "t12", "-5"):
        cursor = base64.urlsafe_b64encode(raw.encode()).decode()
        r = client.get(f"/api/v1/workbench/tasks?cursor={cursor}", headers=officer)
        assert r.status_code == 422 and r.json()["field"] == "cursor", (raw, r.text)
    assert client.get("/api/v1/workbench/tasks?cursor=%%%", headers=officer).json()["field"] == "cursor"
