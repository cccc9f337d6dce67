"""One-thing pages over HTTP: the portal (我要办, 我要查, wallet, inbox) and the workbench
(queue, task, reassign, dashboard, export), each for its role only, every POST with CSRF,
user text escaped, and the birth one-thing driven through the pages from consent to wallet."""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.factories import make_staff, web_login
from tests.services.conftest import DEMO_PASSWORD, birth_data
from tongban.core.audit.models import AuditEvent
from tongban.messages.models import Message
from tongban.services.models import Application, Task

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
BIRTH = "onething.birth"


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def _hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert m, f"no {name} on the page"
    return m.group(1)


def _post(client, url: str, data: dict[str, Any] | None = None,  # type: ignore[no-untyped-def]
          headers: dict[str, str] | None = None):
    """A form POST as a browser sends it; redirects are answered, not followed."""
    return client.post(url, data=data, headers=headers, follow_redirects=False)


def as_user(client, username: str, password: str = DEMO_PASSWORD) -> str:  # type: ignore[no-untyped-def]
    """Log in through the form (after dropping the previous login); return a CSRF token."""
    client.cookies.clear()
    r = web_login(client, username, password)
    assert r.status_code == 303, r.text
    return _csrf(client.get("/portal" if username.startswith("resident") else "/workbench").text)


def submit_birth(client, login, key: str = "k1", **overrides: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/applications", headers={**login("resident.zhang"), "Idempotency-Key": key},
                       json={"onething_id": BIRTH, "data": birth_data(**overrides)})
    assert resp.status_code == 201, resp.text
    app: dict[str, Any] = resp.json()
    return app


def task_of(app: dict[str, Any], item: str) -> dict[str, Any]:
    return next(t for t in app["tasks"] if t["item_id"] == item)


def decide_on_page(client, task_id: int, decision: str = "approve", reason: str = "", **extra: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/workbench/tasks/{task_id}")
    assert page.status_code == 200, page.text
    return _post(client, f"/workbench/tasks/{task_id}/decision", data={
        "csrf_token": _csrf(page.text), "version": _hidden(page.text, "version"), "decision": decision,
        "reason": reason, **extra})


# --- roles ---------------------------------------------------------------------------------------

PORTAL_PAGES = ("/portal/apply", f"/portal/apply/{BIRTH}", f"/portal/apply/{BIRTH}/form", "/portal/applications",
                "/portal/wallet", "/portal/messages")
WORKBENCH_PAGES = ("/workbench/tasks", "/workbench/tasks?tab=mine", "/workbench/tasks?tab=overdue",
                   "/workbench/dashboard", "/workbench/tasks/export.xlsx")


def test_each_page_opens_for_its_role_and_refuses_the_others(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app = submit_birth(client, login)
    task = task_of(app, "item.birth-certificate")["id"]
    for path in (*PORTAL_PAGES, *WORKBENCH_PAGES, f"/workbench/tasks/{task}", f"/portal/applications/{app['id']}"):
        r = client.get(path, headers={"Accept": "text/html"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path

    as_user(client, "resident.zhang")
    for path in (*PORTAL_PAGES, f"/portal/applications/{app['id']}"):
        assert client.get(path).status_code == 200, path
    for path in (*WORKBENCH_PAGES, f"/workbench/tasks/{task}"):
        assert client.get(path, headers={"Accept": "text/html"}).status_code == 403, path

    as_user(client, "resident.li")  # not the applicant
    assert client.get(f"/portal/applications/{app['id']}").status_code in (403, 404)

    as_user(client, "officer.health")
    for path in (*WORKBENCH_PAGES, f"/workbench/tasks/{task}"):
        assert client.get(path).status_code == 200, path
    assert client.get("/portal/apply").status_code == 403

    as_user(client, "officer.cdc")  # another department
    r = client.get(f"/workbench/tasks/{task}", headers={"Accept": "text/html"})
    assert r.status_code == 403 and "李婷" not in r.text and "330203199408210421" not in r.text
    assert f"/workbench/tasks/{task}\"" not in client.get("/workbench/tasks").text


def test_every_post_needs_the_csrf_token(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app = submit_birth(client, login)
    task = task_of(app, "item.birth-certificate")
    with demo.unit_of_work() as s:
        message = s.scalars(select(Message.id).where(Message.kind == "application.submitted")).first()
        before = s.scalar(select(func.max(AuditEvent.id)))
    as_user(client, "resident.zhang")
    for path, data in ((f"/portal/apply/{BIRTH}/consent", {}),
                       (f"/portal/apply/{BIRTH}/form", {**birth_data(), "idempotency_key": "x"}),
                       (f"/portal/apply/{BIRTH}/check?field=child_name", {"child_name": "a"}),
                       (f"/portal/applications/{app['id']}/tasks/{task['id']}/supplement", {"child_name": "a"}),
                       (f"/portal/applications/{app['id']}/withdraw", {}),
                       (f"/portal/messages/{message}/read", {})):
        assert _post(client, path, data=data).status_code == 403, path
    as_user(client, "officer.health")
    for path, data in ((f"/workbench/tasks/{task['id']}/decision", {"decision": "approve", "version": "1"}),
                       (f"/workbench/tasks/{task['id']}/unmask", {"field": "mother_name", "purpose": "核对身份信息"}),
                       (f"/workbench/tasks/{task['id']}/reassign", {"assignee": "1", "version": "1"})):
        assert _post(client, path, data=data).status_code == 403, path
    with demo.unit_of_work() as s:
        assert s.get_one(Application, app["id"]).status == "submitted"
        assert s.get_one(Task, task["id"]).version == 1
        assert s.get_one(Message, message).read_at is None
        actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.id > before)))
        assert not actions & {"prefill.consent", "application.submit", "task.supplement", "application.withdraw",
                              "message.read", "task.approve", "application.unmask", "task.reassign"}, actions


# --- 我要办 ---------------------------------------------------------------------------------------


def test_onething_list_shows_items_and_savings_before_starting(client, demo) -> None:  # type: ignore[no-untyped-def]
    as_user(client, "resident.zhang")
    page = client.get("/portal/apply")
    assert "出生一件事" in page.text and "出生户口登记" in page.text and "海曙区卫生健康局" in page.text
    with demo.unit_of_work() as s:
        from tongban.services.models import OneThing

        savings = s.get_one(OneThing, BIRTH).savings
    # Each one-thing's savings table: the birth one-thing's forms row is among them, with its figures.
    rows = re.findall(r"<th scope=\"row\">[^<]+</th><td>(\d+)</td><td>(\d+)</td><td><strong>(\d+)</strong>", page.text)
    assert (str(savings["forms"]["separately"]), str(savings["forms"]["onething"]),
            str(savings["forms"]["saved"])) in rows
    consent = client.get(f"/portal/apply/{BIRTH}")
    assert "允许从政府登记中读取以下信息为您预填" in consent.text
    assert "母亲姓名" in consent.text and "人口基础信息" in consent.text


def test_field_check_answers_in_the_users_language(client, demo) -> None:  # type: ignore[no-untyped-def]
    token = as_user(client, "resident.zhang")
    url = f"/portal/apply/{BIRTH}/check?field=applicant_phone"
    hx = {"HX-Request": "true", "X-CSRF-Token": token}
    zh = _post(client, url, data={"applicant_phone": "123"}, headers=hx)
    assert zh.status_code == 422 and "请填写 11 位手机号码" in zh.text and 'id="field-applicant_phone"' in zh.text
    assert 'value="123"' in zh.text  # the input is kept
    client.cookies.set("tongban_locale", "en")
    en = _post(client, url, data={"applicant_phone": "123"}, headers=hx)
    assert en.status_code == 422 and "Enter an 11-digit mobile number" in en.text
    ok = _post(client, url, data={"applicant_phone": "13800000101"}, headers=hx)
    assert ok.status_code == 200 and "field-error" not in ok.text
    empty = _post(client, f"/portal/apply/{BIRTH}/check?field=child_name", data={"child_name": " "}, headers=hx)
    assert empty.status_code == 422 and "This field is required" in empty.text
    script = _post(client, f"/portal/apply/{BIRTH}/check?field=child_name", data={"child_name": SCRIPT}, headers=hx)
    assert SCRIPT not in script.text and ESCAPED in script.text


def test_a_refused_form_keeps_the_input_escaped_and_writes_nothing(client, demo) -> None:  # type: ignore[no-untyped-def]
    as_user(client, "resident.zhang")
    form = client.get(f"/portal/apply/{BIRTH}/form")
    key = _hidden(form.text, "idempotency_key")
    data = {**birth_data(child_name=SCRIPT, mother_id_number="330203199408210422"),
            "csrf_token": _csrf(form.text), "idempotency_key": key}
    r = _post(client, f"/portal/apply/{BIRTH}/form", data=data)
    assert r.status_code == 422
    assert ESCAPED in r.text and SCRIPT not in r.text
    assert 'href="#mother_id_number"' in r.text and 'aria-invalid="true"' in r.text
    assert 'value="330203199408210422"' in r.text and 'value="宁波市妇女儿童医院"' in r.text
    assert _hidden(r.text, "idempotency_key") == key
    with demo.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Application)) == 0


# --- the birth one-thing through the pages ---------------------------------------------------------


def test_birth_onething_through_the_pages(client, demo) -> None:  # type: ignore[no-untyped-def]
    as_user(client, "resident.zhang")
    box = client.get(f"/portal/apply/{BIRTH}")
    r = _post(client, f"/portal/apply/{BIRTH}/consent", data={"csrf_token": _csrf(box.text)})
    assert r.status_code == 303 and "consent_id=" in r.headers["location"]
    form = client.get(r.headers["location"])
    assert form.status_code == 200
    assert 'value="李婷"' in form.text and 'value="330203199203150314"' in form.text
    assert "预填自" in form.text  # each prefilled field says where it came from
    data = {**birth_data(), "csrf_token": _csrf(form.text), "idempotency_key": _hidden(form.text, "idempotency_key"),
            "consent_id": _hidden(form.text, "consent_id"), "source.mother_name": "1"}
    sent = _post(client, f"/portal/apply/{BIRTH}/form", data=data)
    assert sent.status_code == 303, sent.text
    again = _post(client, f"/portal/apply/{BIRTH}/form", data=data)  # a double click: the same application
    assert again.status_code == 303 and again.headers["location"] == sent.headers["location"]
    assert sent.headers["location"].endswith("?submitted=1")  # the 提交成功 receipt
    app_id = int(sent.headers["location"].split("?")[0].rsplit("/", 1)[1])
    page = client.get(sent.headers["location"])
    assert "出生医学证明首次签发" in page.text and "海曙区卫生健康局" in page.text

    for officer, steps in (("officer.health", 1), ("officer.cdc", 1), ("officer.police", 1), ("officer.police2", 1),
                           ("officer.medinsure", 1), ("officer.hrss", 1)):
        as_user(client, officer)
        queue = client.get("/workbench/tasks")
        ids = [int(x) for x in re.findall(r'href="/workbench/tasks/(\d+)"', queue.text)]
        assert len(ids) == 1, (officer, queue.text)
        if officer == "officer.medinsure":  # what the hukou task handed on is masked too
            handed = client.get(f"/workbench/tasks/{ids[0]}").text
            assert "新生儿公民身份号码" in handed and re.search(r"330203\*{8}\d{3}[\dX]", handed)
        for _ in range(steps):
            done = decide_on_page(client, ids[0])
            assert done.status_code == 303, done.text

    as_user(client, "resident.zhang")
    done_page = client.get(f"/portal/applications/{app_id}").text
    assert 'class="status status-completed"' in done_page
    wallet = client.get("/portal/wallet")
    for name in ("出生医学证明", "预防接种证", "社会保障卡"):
        assert name in wallet.text, name
    assert wallet.text.count('class="card cert"') == 4 and wallet.text.count("张小明") == 4
    doc = re.search(r'href="(/api/v1/me/certificates/\d+/document)"', wallet.text)
    assert doc and client.get(doc[1]).json()["signature"]
    messages = client.get("/portal/messages")
    # the two of the birth one-thing, and the ratings slice's invitation to rate it (请评价)
    assert messages.text.count('class="card message unread"') == 3 and "请评价" in messages.text


# --- 我要查: returns, supplements, withdrawal, inbox -----------------------------------------------


def test_return_supplement_and_withdraw_on_the_pages(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app = submit_birth(client, login)
    task = task_of(app, "item.birth-certificate")["id"]
    as_user(client, "officer.health")
    assert decide_on_page(client, task, "return", reason="").status_code == 422  # a return needs a reason
    assert decide_on_page(client, task, "return", reason=f"请核对出生地点 {SCRIPT}").status_code == 303

    as_user(client, "resident.zhang")
    page = client.get(f"/portal/applications/{app['id']}")
    assert ESCAPED in page.text and SCRIPT not in page.text
    action = f"/portal/applications/{app['id']}/tasks/{task}/supplement"
    assert action in page.text
    bad = _post(client, action, data={"csrf_token": _csrf(page.text), "child_birth_date": "2099-01-01",
                                    "child_birth_place": "妇儿医院"})
    assert bad.status_code == 422 and "日期" in bad.text and 'value="妇儿医院"' in bad.text
    with demo.unit_of_work() as s:
        assert s.get_one(Task, task).status == "returned"
    good = _post(client, action, data={"csrf_token": _csrf(page.text), "child_birth_place": f"妇儿医院 {SCRIPT}"})
    assert good.status_code == 303
    with demo.unit_of_work() as s:
        assert s.get_one(Task, task).status == "ready"

    inbox = client.get("/portal/messages")
    assert ESCAPED in inbox.text and SCRIPT not in inbox.text
    read = re.search(r'action="(/portal/messages/(\d+)/read)"', inbox.text)
    assert read
    r = _post(client, read[1], data={"csrf_token": _csrf(inbox.text)}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "/read" not in r.text
    with demo.unit_of_work() as s:
        assert s.get_one(Message, int(read[2])).read_at is not None

    as_user(client, "officer.health")
    officer_view = client.get(f"/workbench/tasks/{task}")
    assert ESCAPED in officer_view.text and SCRIPT not in officer_view.text

    as_user(client, "resident.zhang")
    confirm = client.get(f"/portal/applications/{app['id']}/withdraw")
    assert confirm.status_code == 200 and "撤回" in confirm.text
    assert _post(client, f"/portal/applications/{app['id']}/withdraw",
                       data={"csrf_token": _csrf(confirm.text)}).status_code == 303
    with demo.unit_of_work() as s:
        assert s.get_one(Application, app["id"]).status == "withdrawn"
    again = _post(client, f"/portal/applications/{app['id']}/withdraw", data={"csrf_token": _csrf(confirm.text)})
    assert again.status_code == 409


# --- the workbench --------------------------------------------------------------------------------


def test_task_page_masks_until_a_field_is_asked_for_with_a_purpose(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app = submit_birth(client, login)
    task = task_of(app, "item.birth-certificate")["id"]
    as_user(client, "officer.health")
    page = client.get(f"/workbench/tasks/{task}")
    assert "330203199408210421" not in page.text and "330203********0421" in page.text and "李*" in page.text
    short = _post(client, f"/workbench/tasks/{task}/unmask", data={"csrf_token": _csrf(page.text),
                                                                 "field": "mother_id_number", "purpose": "x"})
    assert short.status_code == 422 and "330203199408210421" not in short.text
    full = _post(client, f"/workbench/tasks/{task}/unmask", data={"csrf_token": _csrf(page.text),
                                                                "field": "mother_id_number", "purpose": "核对母亲身份"})
    assert full.status_code == 200 and "330203199408210421" in full.text and "李*" in full.text
    with demo.unit_of_work() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "application.unmask")).all()
        assert [(e.purpose, e.subject) for e in events] == [("核对母亲身份", f"application:{app['id']}")]


def test_a_stale_version_is_explained_not_a_crash(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app = submit_birth(client, login)
    task = task_of(app, "item.birth-certificate")["id"]
    as_user(client, "officer.health")
    page = client.get(f"/workbench/tasks/{task}")
    form = {"csrf_token": _csrf(page.text), "version": _hidden(page.text, "version"), "decision": "approve"}
    with demo.unit_of_work() as s:  # someone else acted meanwhile
        s.get_one(Task, task).version += 1
    r = _post(client, f"/workbench/tasks/{task}/decision", data=form)
    assert r.status_code == 409
    assert "该环节已被他人处理，请刷新后重新办理" in r.text and f'href="/workbench/tasks/{task}"' in r.text
    with demo.unit_of_work() as s:
        assert s.get_one(Task, task).status == "ready"


def test_department_admin_reassigns_and_the_officer_sees_it_as_mine(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    with demo.unit_of_work() as s:
        admin = make_staff(s, "admin.health", department_id="dept.haishu.health", roles=["dept_admin"])
        second = make_staff(s, "officer.health2", department_id="dept.haishu.health", roles=["officer"])
        s.flush()
        second_id, second_name = second.id, second.display_name
        assert admin.id
    app = submit_birth(client, login)
    task = task_of(app, "item.birth-certificate")["id"]
    as_user(client, "officer.health")
    page = client.get(f"/workbench/tasks/{task}")
    assert "/reassign" not in page.text  # an officer does not reassign
    assert _post(client, f"/workbench/tasks/{task}/reassign", data={
        "csrf_token": _csrf(page.text), "assignee": str(second_id), "version": "1"}).status_code == 403

    as_user(client, "admin.health", "password-123")
    page = client.get(f"/workbench/tasks/{task}")
    assert page.status_code == 200 and 'name="assignee"' in page.text and "/decision" not in page.text
    r = _post(client, f"/workbench/tasks/{task}/reassign", data={
        "csrf_token": _csrf(page.text), "assignee": str(second_id), "version": _hidden(page.text, "version")})
    assert r.status_code == 303
    with demo.unit_of_work() as s:
        assert s.get_one(Task, task).assignee_account_id == second_id

    as_user(client, "officer.health2", "password-123")
    mine = client.get("/workbench/tasks?tab=mine")
    assert f'href="/workbench/tasks/{task}"' in mine.text
    assert re.search(r'tab=mine"[^>]*>[^<]*<span class="count">1</span>', mine.text)
    assert second_name in mine.text


def test_queue_export_has_the_masked_rows(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    submit_birth(client, login, "a")
    submit_birth(client, login, "b", child_name="张小红", child_sex="F")
    as_user(client, "officer.health")
    r = client.get("/workbench/tasks/export.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows[0]) == 8 and rows[0][4] == "申请人"
    assert len(rows) == 3
    assert {row[4] for row in rows[1:]} == {"张*"}
    text = repr(rows)
    assert "张明" not in text and "330203" not in text


def test_dashboard_counts_and_chart_data(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app = submit_birth(client, login)
    submit_birth(client, login, "b")
    as_user(client, "officer.health")
    assert decide_on_page(client, task_of(app, "item.birth-certificate")["id"]).status_code == 303
    page = client.get("/workbench/dashboard")
    assert page.status_code == 200 and "data-chart=" in page.text and "/static/js/charts." in page.text
    figures = re.findall(r'<span class="figure">([^<]+)</span>', page.text)
    assert figures[0].strip() == "1" and figures[2].strip() == "100.0%"


def test_queue_tabs_count_overdue_and_near_due_tasks(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from tongban.core.timeutil import today_local

    late = task_of(submit_birth(client, login, "a"), "item.birth-certificate")["id"]
    soon = task_of(submit_birth(client, login, "b"), "item.birth-certificate")["id"]
    fine = task_of(submit_birth(client, login, "c"), "item.birth-certificate")["id"]
    today = today_local()
    with demo.unit_of_work() as s:
        t = s.get_one(Task, late)
        t.clock_started_on, t.due_date = today - dt.timedelta(days=30), today - dt.timedelta(days=1)
        t = s.get_one(Task, soon)
        t.clock_started_on, t.due_date = today - dt.timedelta(days=30), today
    as_user(client, "officer.health")
    for tab, expected in (("overdue", {late}), ("near_due", {soon}), ("ready", {late, soon, fine}), ("mine", set())):
        page = client.get(f"/workbench/tasks?tab={tab}")
        listed = {int(x) for x in re.findall(r'href="/workbench/tasks/(\d+)"', page.text)}
        assert listed == expected, tab
        assert re.search(rf'tab={tab}"[^>]*>[^<]*<span class="count">{len(expected)}</span>', page.text), tab
    assert client.get("/workbench/tasks?tab=nonsense").status_code == 422
    dashboard = client.get("/workbench/dashboard").text
    assert re.findall(r'<span class="figure">([^<]+)</span>', dashboard)[:2] == ["3", "1"]


def test_a_rejection_and_its_cancelled_dependants_show_on_the_progress_page(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app = submit_birth(client, login)
    as_user(client, "officer.health")
    task = task_of(app, "item.birth-certificate")["id"]
    assert _post(client, f"/workbench/tasks/{task}/decision", data={
        "csrf_token": _csrf(client.get(f"/workbench/tasks/{task}").text), "version": "1",
        "decision": "maybe"}).status_code == 422  # not a decision: said so, nothing written
    assert decide_on_page(client, task, "reject", reason="无本院分娩记录").status_code == 303
    assert "/decision" not in client.get(f"/workbench/tasks/{task}").text  # decided: no form any more
    as_user(client, "resident.zhang")
    page = client.get(f"/portal/applications/{app['id']}").text
    statuses = re.findall(r'<li class="card step step-(\w+)"', page)
    assert statuses == ["rejected", "ready", "cancelled", "cancelled", "cancelled"]
    assert "无本院分娩记录" in page and "不予办理" in page
