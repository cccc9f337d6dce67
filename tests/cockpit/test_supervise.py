"""督办 from an early warning (issue #31): the case engine files a 督办事项 case for the department the
warning names, in its hands at once, and supervises it — the message lands in the department's
queue and its head's and the 督查室's inboxes. The supervision outlives the refreshes that replace
the warnings; a warning whose case is open is not supervised twice; refusals change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.factories import refusal_count
from tests.services.test_pages import _csrf, as_user
from tongban.cases import engine
from tongban.cases.models import Case, CaseEvent
from tongban.cockpit import store, warnings
from tongban.cockpit.models import CockpitSetting, CockpitSupervision, CockpitWarning
from tongban.core import access, workdays
from tongban.core.identity.models import Account
from tongban.messages.models import Message

NOTE = "请一周内补足在岗人员，审核与审批分岗"


@pytest.fixture()
def thin(demo):  # type: ignore[no-untyped-def]
    """The thin-department rule alone, at five: 南门街道办事处 (four staff) and others are warned of."""
    with demo.unit_of_work() as s:
        rules = s.get(CockpitSetting, "rules")
        rules.value = [{**r, "threshold": 5} for r in rules.value if r["id"] == "warn.thin-department"]
        s.flush()
        store.refresh(s)
    return demo


def _warning(client, headers: dict[str, str], department: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    listed = client.get("/api/v1/cockpit/warnings", headers=headers).json()
    return next(w for w in listed if w["actor"] == department)


def _inbox(db, username: str) -> list[str]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        account_id = s.scalar(select(Account.id).where(Account.username == username))
        return list(s.scalars(select(Message.kind).where(Message.account_id == account_id).order_by(Message.id)))


def _counts(db) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return (s.scalar(select(func.count()).select_from(Case)) or 0,
                s.scalar(select(func.count()).select_from(CockpitSupervision)) or 0,
                s.scalar(select(func.count()).select_from(Message)) or 0,
                s.scalar(select(func.count()).select_from(CaseEvent)) or 0)


def test_a_supervision_from_a_warning_lands_in_the_department_inboxes(client, login, thin):  # type: ignore[no-untyped-def]
    leader = login("leader.haishu")
    w = _warning(client, leader, "dept.nanmen.office")
    assert w["id"] and w["supervised_case"] is None and w["actor_kind"] == "department"
    r = client.post(f"/api/v1/cockpit/warnings/{w['id']}/supervise", headers=leader, json={"note": NOTE})
    assert r.status_code == 201, r.text
    out = r.json()
    case_id = out["case_id"]
    assert out["department_id"] == "dept.nanmen.office" and out["rule"] == "warn.thin-department"
    with thin.unit_of_work() as s:
        case = s.get(Case, case_id)
        assert (case.category_id, case.kind, case.type, case.channel) == (
            "case.supervision", "cockpit", "supervision", "cockpit")
        # in the department's hands, in the street office's own region (its staff act there)
        assert case.status == "dispatched" and case.department_id == "dept.nanmen.office"
        assert case.region_code == "330203001" and case.supervisions == 1
        assert NOTE in case.description and "部门在岗人员不足" in case.description
        # the category's own limit: ten working days
        assert workdays.calendar(s).working_days_between(case.clock_started_on, case.due_date) == 10
        events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)).all()
        assert [e.kind for e in events] == ["received", "dispatched", "supervised"]
        assert events[2].details["note"] == NOTE and events[2].actor.endswith(str(
            s.scalar(select(Account.id).where(Account.username == "leader.haishu"))))
    # the department's queue (its officers), its head and the district's 督查室 — nobody else
    assert _inbox(thin, "officer.nanmen") == ["case.supervised"]
    assert _inbox(thin, "head.nanmen") == ["case.supervised"]
    assert _inbox(thin, "supervisor.haishu") == ["case.supervised"]
    assert _inbox(thin, "officer.ximen") == []
    nanmen = login("officer.nanmen")
    mine = client.get("/api/v1/me/messages", headers=nanmen).json()["items"]
    assert mine[0]["link"] == f"/workbench/cases/{case_id}"
    assert [c["id"] for c in client.get("/api/v1/cases", headers=nanmen).json()["items"]] == [case_id]
    assert client.get(f"/api/v1/cases/{case_id}", headers=nanmen).json()["status"] == "dispatched"
    # the warning says so, and still does after a refresh re-raises it under a new id
    assert _warning(client, leader, "dept.nanmen.office")["supervised_case"] == case_id
    with thin.unit_of_work() as s:
        store.refresh(s)
    again = _warning(client, leader, "dept.nanmen.office")
    assert again["supervised_case"] == case_id
    assert _warning(client, leader, "dept.ximen.office")["supervised_case"] is None
    # a second 督办 while the case is open is refused, naming the case; nothing is filed
    before = _counts(thin)
    dup = client.post(f"/api/v1/cockpit/warnings/{again['id']}/supervise", headers=leader, json={"note": NOTE})
    assert dup.status_code == 409 and dup.headers["content-type"].startswith("application/problem+json")
    assert str(case_id) in dup.json()["detail"] and dup.json()["field"] == "warning_id"
    assert _counts(thin) == before
    # once the department has finished with it, the warning may be supervised anew
    with thin.unit_of_work() as s:
        s.get(Case, case_id).status = "closed"
    assert _warning(client, leader, "dept.nanmen.office")["supervised_case"] is None
    r = client.post(f"/api/v1/cockpit/warnings/{again['id']}/supervise", headers=leader, json={"note": NOTE})
    assert r.status_code == 201 and r.json()["case_id"] != case_id


@pytest.mark.parametrize(("note", "field"), [("", "note"), ("   ", "note"), ("好", "note"), ("办" * 501, "note"),
                                             ("办" * 2001, None)])
def test_a_bad_note_is_refused_and_nothing_is_filed(client, login, thin, note, field):  # type: ignore[no-untyped-def]
    leader = login("leader.haishu")
    w = _warning(client, leader, "dept.nanmen.office")
    before = _counts(thin)
    r = client.post(f"/api/v1/cockpit/warnings/{w['id']}/supervise", headers={**leader, "Accept-Language": "zh-CN"},
                    json={"note": note})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if field:
        assert r.json()["field"] == field
    assert _counts(thin) == before
    assert _warning(client, leader, "dept.nanmen.office")["supervised_case"] is None


def test_who_may_not_supervise_is_refused_and_nothing_is_filed(client, login, thin):  # type: ignore[no-untyped-def]
    leader = login("leader.haishu")
    w = _warning(client, leader, "dept.nanmen.office")
    before, refused = _counts(thin), refusal_count(thin)
    url = f"/api/v1/cockpit/warnings/{w['id']}/supervise"
    # a resident
    assert client.post(url, headers=login("resident.zhang"), json={"note": NOTE}).status_code == 403
    # the department's own head: their warnings are in view, their own department is not theirs to press
    own = client.post(url, headers=login("head.nanmen"), json={"note": NOTE})
    assert own.status_code == 403 and "本部门" in own.json()["detail"], own.text
    # an officer with no cockpit
    assert client.post(url, headers=login("officer.ximen"), json={"note": NOTE}).status_code == 403
    assert _counts(thin) == before and refusal_count(thin) >= refused + 3
    # leaders of another district, and of a street below the warning's district: not theirs to see
    from tests.factories import make_staff, token_for

    with thin.unit_of_work() as s:
        make_staff(s, "leader.jiangbei", department_id="dept.jiangbei.mca", roles=["leader"], region_code="330205")
        make_staff(s, "leader.ximen", department_id="dept.ximen.office", roles=["leader"], region_code="330203003")
    for who in ("leader.jiangbei", "leader.ximen"):
        r = client.post(url, headers=token_for(client, who), json={"note": NOTE})
        assert r.status_code == 409 and r.json()["field"] == "warning_id", (who, r.text)
    assert _counts(thin) == before


def test_an_unknown_warning_and_one_naming_a_role_are_refused(client, login, thin):  # type: ignore[no-untyped-def]
    leader = login("leader.haishu")
    before = _counts(thin)
    gone = client.post("/api/v1/cockpit/warnings/999999/supervise", headers=leader, json={"note": NOTE})
    assert gone.status_code == 409 and gone.json()["field"] == "warning_id" and "刷新" in gone.json()["detail"]
    # an id that names another department's warning now (a refresh in between) is refused
    w = _warning(client, leader, "dept.nanmen.office")
    moved = client.post(f"/api/v1/cockpit/warnings/{w['id']}/supervise", headers=leader,
                        json={"note": NOTE, "department_id": "dept.ximen.office"})
    assert moved.status_code == 409 and moved.json()["field"] == "warning_id"
    with thin.unit_of_work() as s:
        rule = next(r for r in warnings.rules(s) if r["id"] == "warn.thin-department")
        s.get(CockpitSetting, "rules").value = [rule, {
            "id": "warn.risk-alerts", "title": {"zh": "返贫风险预警未处置", "en": "Open risk alerts"},
            "indicator": "cockpit.staff", "level": "street", "window_days": 1, "comparison": "above",
            "threshold": 0, "act": {"role": "grid_worker"}, "href": "/workbench/screening/visits"}]
        role = CockpitWarning(rule="warn.risk-alerts", indicator="cockpit.staff", region="330203001", key="[]",
                              value=3.0, previous=None, subjects=None, actor_kind="role", actor="grid_worker",
                              href="/workbench/screening/visits")
        s.add(role)
        s.flush()
        role_id = role.id
    listed = {w["id"]: w for w in client.get("/api/v1/cockpit/warnings", headers=leader).json()}
    assert listed[role_id]["actor_kind"] == "role"
    r = client.post(f"/api/v1/cockpit/warnings/{role_id}/supervise", headers=leader, json={"note": NOTE})
    assert r.status_code == 409 and r.json()["field"] == "warning_id" and "角色" in r.json()["detail"]
    assert _counts(thin) == before


def test_the_engine_refuses_another_region_and_ones_own_department(thin):  # type: ignore[no-untyped-def]
    def leader(region: str, department: str, *permissions: str) -> access.Principal:
        return access.Principal(kind="staff", account_id=999, region_code=region, department_id=department,
                                permissions=frozenset(permissions or ("cockpit.view", "cockpit.region")))

    with thin.unit_of_work() as s:
        kwargs: dict[str, Any] = {"department_id": "dept.nanmen.office", "region_code": "330203",
                                  "title": "部门在岗人员不足", "note": NOTE}
        with pytest.raises(access.Denied):  # a leader of 江北区
            engine.raise_supervision(s, principal=leader("330205", "dept.jiangbei.mca"), **kwargs)
        with pytest.raises(access.Denied):  # the department's own
            engine.raise_supervision(s, principal=leader("330203", "dept.nanmen.office"), **kwargs)
        with pytest.raises(access.Denied):  # the figures of a department only
            engine.raise_supervision(s, principal=leader("330203", "dept.haishu.gov", "cockpit.department"), **kwargs)
        with pytest.raises(engine.Invalid) as bad:
            engine.raise_supervision(s, principal=leader("330203", "dept.haishu.gov"),
                                     **{**kwargs, "department_id": "dept.nowhere"})
        assert bad.value.field == "department_id"
        assert s.scalar(select(func.count()).select_from(Case)) == 0
        # a district department under a street's warning: the case stays at the street
        case = engine.raise_supervision(s, principal=leader("330203", "dept.haishu.gov"),
                                        **{**kwargs, "department_id": "dept.haishu.mca", "region_code": "330203003"})
        assert case.region_code == "330203003" and case.status == "dispatched" and case.supervisions == 1


def test_a_cockpit_category_is_not_filed_by_hand(client, login, thin):  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/cases", headers=login("resident.zhang"), json={
        "description": "楼下工地夜间施工噪音很大", "category_id": "case.supervision", "region_code": "330203001001",
        "address": "解放南路128号"})
    assert r.status_code == 422 and r.json()["field"] == "category_id"


def test_the_page_raises_a_supervision_and_says_so(client, thin):  # type: ignore[no-untyped-def]
    token = as_user(client, "leader.haishu")
    page = client.get("/cockpit")
    assert page.status_code == 200 and "督办" in page.text
    with thin.unit_of_work() as s:
        w = next(x for x in s.scalars(select(CockpitWarning)) if x.actor == "dept.nanmen.office")
        warning_id = w.id
    assert f'action="/cockpit/warnings/{warning_id}/supervise"' in page.text
    token = _csrf(page.text)
    assert 'name="department_id" value="dept.nanmen.office"' in page.text
    form = {"csrf_token": token, "department_id": "dept.nanmen.office"}
    stale = client.post(f"/cockpit/warnings/{warning_id}/supervise", data={**form, "department_id": "dept.ximen.office",
                                                                           "note": NOTE})
    assert stale.status_code == 409 and "请刷新驾驶舱" in stale.text
    bad = client.post(f"/cockpit/warnings/{warning_id}/supervise", data={**form, "note": ""})
    assert bad.status_code == 422 and "请写明要求该部门做什么" in bad.text
    done = client.post(f"/cockpit/warnings/{warning_id}/supervise", data={**form, "note": NOTE},
                       follow_redirects=False)
    assert done.status_code == 303, done.text
    with thin.unit_of_work() as s:
        case_id = s.scalar(select(CockpitSupervision.case_id))
    assert done.headers["location"] == f"/cockpit?supervised={case_id}#warnings"
    back = client.get(done.headers["location"])
    assert f"已督办，案件编号 {case_id}" in back.text
    assert f'href="/workbench/cases/{case_id}"' in back.text and f"已督办（案件 {case_id}）" in back.text
    again = client.post(f"/cockpit/warnings/{warning_id}/supervise", data={**form, "note": NOTE})
    assert again.status_code == 409 and str(case_id) in again.text
    # someone else's case number in the address says nothing
    assert "已督办，案件编号" not in client.get(f"/cockpit?supervised={case_id + 1}").text
    # the department's officer opens the case from the message
    as_user(client, "officer.nanmen")
    inbox = client.get("/workbench/messages")
    assert inbox.status_code == 200 and "督办" in inbox.text
    case = client.get(f"/workbench/cases/{case_id}")
    assert case.status_code == 200 and NOTE in case.text


def test_supervision_rows_keep_their_dates(thin):  # type: ignore[no-untyped-def]
    """The kept row: who and when (the clock's), beside the warning it was raised from."""
    with thin.unit_of_work() as s:
        w = next(x for x in s.scalars(select(CockpitWarning)) if x.actor == "dept.nanmen.office")
        admin = access.Principal(kind="staff", account_id=1, region_code=None, department_id="dept.haishu.bigdata",
                                 permissions=frozenset({"cockpit.view", "cockpit.region", "platform.admin"}),
                                 roles=frozenset({"platform_admin"}))
        row = warnings.supervise(s, principal=admin, warning_id=w.id, note=NOTE)
        assert (row.rule, row.region, row.key, row.department_id) == (w.rule, w.region, w.key, w.actor)
        assert row.supervised_by == admin.actor and isinstance(row.supervised_at, dt.datetime)


def _cases_problems(tmp_path, edit) -> list[str]:  # type: ignore[no-untyped-def]
    """The problems of the demo pack with its cases.yaml edited (none: it reads)."""
    import shutil
    from pathlib import Path

    from tongban.core.packs.loader import PackError, read_pack

    pack = tmp_path / "pack"
    shutil.copytree(Path(__file__).resolve().parents[2] / "packs" / "demo", pack)
    path = pack / "cases.yaml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    try:
        read_pack(pack)
    except PackError as exc:
        return [str(p) for p in exc.problems]
    return []


def test_the_pack_keeps_the_supervision_category_out_of_the_dispatch_list(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert _cases_problems(tmp_path / "a", lambda t: t) == []
    routed = _cases_problems(tmp_path / "b", lambda t: t.replace(
        "dispatch:\n", "dispatch:\n  - {category: case.supervision, region: \"330203\", department: dept.haishu.gov}\n"))
    assert any("cockpit category" in p for p in routed), routed
    typed = _cases_problems(tmp_path / "c", lambda t: t.replace("    kind: cockpit\n    type: supervision\n",
                                                                 "    kind: cockpit\n    type: help\n"))
    assert any("type supervision" in p for p in typed), typed
