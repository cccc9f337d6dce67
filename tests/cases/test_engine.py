"""The case engine through the API: routing, 退单 and 改派 with history, time limits over holidays,
督办 of overdue cases, anonymity and 举报, 并单, emergencies, and the staff's row scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from tongban.cases import engine
from tongban.cases.models import Case, CaseEvent
from tongban.core.audit.models import AuditEvent

NOISE_NANMEN = {"description": "楼下工地夜间施工噪音很大，影响休息", "category_id": "case.noise",
                "region_code": "330203001001", "address": "解放南路128号"}


def file(client, headers: dict[str, str], **body: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/cases", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def kinds(case: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in case["timeline"]]


def test_a_case_is_dispatched_by_category_and_region_most_specific_first(client, login):  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    street = file(client, zhang, **NOISE_NANMEN)
    assert street["status"] == "dispatched" and street["department_id"] == "dept.nanmen.office"
    district = file(client, zhang, **{**NOISE_NANMEN, "region_code": "330203002"})  # 江厦: no street rule
    assert district["department_id"] == "dept.haishu.gov"
    other = file(client, zhang, description="这里的事情不知道找谁，想咨询一下", category_id="case.other",
                 region_code="330203001001", address="解放南路1号", type="consult")
    assert other["status"] == "received" and other["department_id"] is None  # no rule: the operator dispatches


def test_a_wrongly_sent_case_is_returned_and_redispatched_with_its_history(client, login):  # type: ignore[no-untyped-def]
    operator, housing, water = login("hotline.haishu"), login("officer.housing"), login("officer.water")
    case = file(client, operator, description="小区门口路面塌陷，其实是自来水管爆了在冒水", category_id="case.road",
                region_code="330203003001", address="西门街道文昌社区", reporter_name="刘洋",
                reporter_phone="13800000999")
    assert case["department_id"] == "dept.haishu.housing" and case["channel"] == "hotline"
    r = client.post(f"/api/v1/cases/{case['id']}/return", headers=housing, json={"reason": "水管爆裂属供水公司"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "returned" and r.json()["department_id"] is None
    # Housing no longer sees it; the operator sees it to dispatch.
    assert client.get(f"/api/v1/cases/{case['id']}", headers=housing).status_code == 404
    intake = client.get("/api/v1/cases?tab=intake", headers=operator).json()["items"]
    assert [c["id"] for c in intake] == [case["id"]]
    r = client.post(f"/api/v1/cases/{case['id']}/dispatch", headers=operator,
                    json={"department_id": "dept.haishu.water", "reason": "退单：供水管道问题"})
    assert r.status_code == 200, r.text
    done = client.get(f"/api/v1/cases/{case['id']}", headers=water).json()
    assert done["status"] == "dispatched" and done["department_id"] == "dept.haishu.water"
    assert kinds(done) == ["received", "dispatched", "returned", "redispatched"]
    returned = next(e for e in done["timeline"] if e["kind"] == "returned")
    assert returned["department_id"] == "dept.haishu.housing" and returned["details"]["reason"] == "水管爆裂属供水公司"
    again = next(e for e in done["timeline"] if e["kind"] == "redispatched")
    assert again["details"]["to"] == "dept.haishu.water" and again["details"]["reason"] == "退单：供水管道问题"


def test_sending_a_dispatched_case_elsewhere_needs_a_reason(client, login, db):  # type: ignore[no-untyped-def]
    operator = login("hotline.haishu")
    case = file(client, operator, **NOISE_NANMEN)
    r = client.post(f"/api/v1/cases/{case['id']}/dispatch", headers=operator, json={"department_id": "dept.haishu.gov"})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    with db.unit_of_work() as s:
        assert s.get(Case, case["id"]).department_id == "dept.nanmen.office"  # nothing changed


def test_time_limits_count_working_days_over_the_national_day_holiday(client, login, clock):  # type: ignore[no-untyped-def]
    clock.set(dt.datetime(2025, 9, 30, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    zhang = login("resident.zhang")
    consult = file(client, zhang, description="请问低保怎么申请，需要哪些材料", category_id="case.assistance",
                   region_code="330203001001", address="解放南路128号", type="consult")
    # 10-01 … 10-08 are holidays; 10-09 and 10-10 are the two working days.
    assert consult["due_date"] == "2025-10-10" and consult["clock"]["working_days_allowed"] == 2
    complaint = file(client, zhang, **NOISE_NANMEN)
    # Fifteen working days: 10-11 is an adjusted working Saturday (调休).
    assert complaint["due_date"] == "2025-10-28"


def test_grid_categories_have_their_own_time_limit(client, login, clock):  # type: ignore[no-untyped-def]
    grid = login("grid.nanmen")
    event = file(client, grid, description="楼道堆放大量纸箱杂物", category_id="grid.garbage",
                 address="紫金巷12号楼道", region_code="330203001001")
    assert event["type"] == "grid" and event["channel"] == "grid" and event["department_id"] == "dept.nanmen.office"
    assert event["clock"]["working_days_allowed"] == 3  # the category's days, not the type's
    r = client.post("/api/v1/cases", headers=grid, json={**NOISE_NANMEN})
    assert r.status_code == 422 and r.json()["field"] == "category_id"


def test_an_overdue_case_is_supervised_once_and_shows_as_overdue(client, login, clock, db):  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    case = file(client, zhang, description="请问低保怎么申请，需要哪些材料", category_id="case.assistance",
                region_code="330203001001", address="解放南路128号", type="consult")
    assert case["due_date"] == "2025-06-13"
    with db.unit_of_work() as s:
        assert engine.flag_overdue(s, today=dt.date(2025, 6, 13)) == 0  # due today: not yet
    clock.set(dt.date(2025, 6, 16))
    with db.unit_of_work() as s:
        assert engine.flag_overdue(s) == 1
    with db.unit_of_work() as s:
        assert engine.flag_overdue(s) == 0  # once
    mca = login("officer.mca")
    seen = client.get(f"/api/v1/cases/{case['id']}", headers=mca).json()
    assert seen["supervisions"] == 1 and seen["clock"]["overdue"] is True
    supervised = [e for e in seen["timeline"] if e["kind"] == "supervised"]
    assert supervised[0]["details"]["automatic"] is True and supervised[0]["department_id"] == "dept.haishu.mca"
    overdue = client.get("/api/v1/cases?tab=overdue", headers=mca).json()["items"]
    assert [c["id"] for c in overdue] == [case["id"]]
    # A 督办 by hand (the operator, or the cockpit) adds another.
    r = client.post(f"/api/v1/cases/{case['id']}/supervise", headers=login("hotline.haishu"), json={"note": "请尽快答复"})
    assert r.status_code == 200 and r.json()["supervisions"] == 2


def test_a_report_reporter_is_never_shown_to_a_department(client, login, db):  # type: ignore[no-untyped-def]
    zhang, market, operator = login("resident.zhang"), login("officer.market"), login("hotline.haishu")
    case = file(client, zhang, description="某餐馆无证经营并销售过期食品", category_id="case.food",
                region_code="330203001001", address="解放南路200号")
    assert case["type"] == "report" and case["department_id"] == "dept.haishu.market"
    seen = client.get(f"/api/v1/cases/{case['id']}", headers=market).json()
    assert seen["reporter"] == {"shown": False, "reason": "report"}
    assert "张明" not in str(seen) and "13800000101" not in str(seen)
    assert client.get(f"/api/v1/cases/{case['id']}", headers=operator).json()["reporter"]["name"] == "张明"
    assert client.get(f"/api/v1/cases/{case['id']}", headers=zhang).json()["reporter"]["shown"] is True


def test_an_anonymous_reporter_is_hidden_and_a_named_one_shown_with_an_audit(client, login, db):  # type: ignore[no-untyped-def]
    zhang, nanmen = login("resident.zhang"), login("officer.nanmen")
    hidden = file(client, zhang, **NOISE_NANMEN, anonymous=True)
    named = file(client, zhang, **NOISE_NANMEN)
    assert client.get(f"/api/v1/cases/{hidden['id']}", headers=nanmen).json()["reporter"] == {
        "shown": False, "reason": "anonymous"}
    shown = client.get(f"/api/v1/cases/{named['id']}", headers=nanmen).json()["reporter"]
    assert shown["shown"] is True and shown["name"] == "张明" and shown["phone"] == "13800000101"
    with db.unit_of_work() as s:
        reads = s.scalars(select(AuditEvent.subject).where(AuditEvent.action == "case.reporter_read")).all()
    assert reads == [f"case:{named['id']}"]


def test_merged_repeats_are_answered_and_closed_with_the_master(client, login, db):  # type: ignore[no-untyped-def]
    zhang, li, chen = login("resident.zhang"), login("resident.li"), login("resident.chen")
    operator, nanmen = login("hotline.haishu"), login("officer.nanmen")
    spot = {**NOISE_NANMEN, "longitude": 121.5440, "latitude": 29.8660, "datum": "WGS84"}
    master = file(client, zhang, **spot)
    repeat = file(client, li, **{**spot, "longitude": 121.5445})  # about 48 m east
    far = file(client, chen, **{**spot, "longitude": 121.5600})  # about 1.5 km: not a repeat
    dups = client.get(f"/api/v1/cases/{repeat['id']}/duplicates", headers=operator).json()["items"]
    assert [d["case"]["id"] for d in dups] == [master["id"]] and 40 <= dups[0]["distance_m"] <= 60
    r = client.post(f"/api/v1/cases/{repeat['id']}/merge", headers=operator, json={"into_id": master["id"]})
    assert r.status_code == 200 and r.json()["status"] == "merged" and r.json()["merged_into_id"] == master["id"]
    assert client.post(f"/api/v1/cases/{master['id']}/accept", headers=nanmen, json={}).status_code == 200
    r = client.post(f"/api/v1/cases/{master['id']}/reply", headers=nanmen, json={"text": "已责令工地夜间停工。"})
    assert r.status_code == 200, r.text
    assert client.post(f"/api/v1/cases/{master['id']}/close", headers=operator, json={}).status_code == 200
    for who, case_id in ((zhang, master["id"]), (li, repeat["id"])):
        mine = client.get(f"/api/v1/cases/{case_id}", headers=who).json()
        assert mine["reply"] == "已责令工地夜间停工。" and mine["closed_at"] is not None
    assert client.get(f"/api/v1/cases/{far['id']}", headers=chen).json()["reply"] is None
    # Both reporters may rate their own, once.
    assert client.post(f"/api/v1/cases/{repeat['id']}/rate", headers=li, json={"rating": 4}).status_code == 200
    assert client.post(f"/api/v1/cases/{repeat['id']}/rate", headers=li, json={"rating": 5}).status_code == 409
    assert client.post(f"/api/v1/cases/{master['id']}/rate", headers=li, json={"rating": 1}).status_code == 404


def test_an_emergency_is_refused_with_its_number_and_nothing_is_written(client, login, db):  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/cases", headers=login("resident.zhang"),
                    json={**NOISE_NANMEN, "description": "隔壁楼着火了，好多烟"})
    assert r.status_code == 422
    body = r.json()
    assert body["type"].endswith("/emergency") and body["field"] == "description"
    assert "119" in body["detail"]
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
        assert s.scalar(select(func.count()).select_from(CaseEvent)) == 0


def test_category_suggestion_names_the_matched_words(client, login):  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/cases/suggest", headers=login("hotline.haishu"),
                    json={"description": "晚上广场舞音响太吵，噪音扰民"})
    assert r.status_code == 200
    first = r.json()["categories"][0]
    assert first["category"]["id"] == "case.noise" and {"广场舞", "音响", "噪音", "扰民"} <= set(first["matched"])


def test_staff_see_only_their_department_in_their_region(client, login):  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    case = file(client, zhang, **NOISE_NANMEN)
    for outsider in ("officer.ximen", "officer.jiangbei", "officer.housing", "resident.li"):
        assert client.get(f"/api/v1/cases/{case['id']}", headers=login(outsider)).status_code == 404, outsider
    assert client.get("/api/v1/cases", headers=login("officer.ximen")).json()["items"] == []
    assert [c["id"] for c in client.get("/api/v1/cases", headers=login("officer.nanmen")).json()["items"]] == [case["id"]]
    # Another department cannot take it on or answer it.
    r = client.post(f"/api/v1/cases/{case['id']}/accept", headers=login("officer.ximen"), json={})
    assert r.status_code == 404
    # A resident has no queue.
    assert client.get("/api/v1/cases", headers=zhang).status_code == 403


def test_bad_location_is_refused_naming_the_field(client, login, db):  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    r = client.post("/api/v1/cases", headers=zhang, json={**NOISE_NANMEN, "longitude": 121.5, "latitude": 29.8})
    assert r.status_code == 422 and r.json()["field"] == "datum"
    r = client.post("/api/v1/cases", headers=zhang, json={**NOISE_NANMEN, "address": None})
    assert r.status_code == 422 and r.json()["field"] == "address"
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_the_demo_cases_show_the_whole_loop(client, login, db, clock):  # type: ignore[no-untyped-def]
    from tongban.cases.demo import seed_demo_cases

    login("resident.zhang")  # the demo is loaded
    with db.unit_of_work() as s:
        assert seed_demo_cases(s) == 6  # five plus the food complaint rated 差评 (ratings: a rectification in progress)
    with db.unit_of_work() as s:
        assert seed_demo_cases(s) == 0  # once
        states = {c.status for c in s.scalars(select(Case))}
        overdue = [c for c in s.scalars(select(Case)) if c.supervisions]
    assert {"dispatched", "accepted", "replied", "closed"} <= states
    assert len(overdue) == 2  # the two overdue ones were supervised (督办)
    overdue_tab = client.get("/api/v1/cases?tab=overdue", headers=login("hotline.haishu")).json()["items"]
    assert len(overdue_tab) == 2


def test_the_supervising_office_follows_and_supervises_without_seeing_the_reporter(client, login):  # type: ignore[no-untyped-def]
    case = file(client, login("resident.zhang"), **NOISE_NANMEN)
    supervisor = login("supervisor.haishu")
    seen = client.get(f"/api/v1/cases/{case['id']}", headers=supervisor).json()
    assert seen["reporter"] == {"shown": False, "reason": "not_yours"}
    r = client.post(f"/api/v1/cases/{case['id']}/supervise", headers=supervisor, json={"note": "请加快办理"})
    assert r.status_code == 200 and r.json()["supervisions"] == 1
    # The head of the department sees its cases (as a department admin sees its tasks).
    assert [c["id"] for c in client.get("/api/v1/cases", headers=login("head.nanmen")).json()["items"]] == [case["id"]]


def _inbox(db, username: str) -> list[str]:  # type: ignore[no-untyped-def]
    from tongban.core.identity.models import Account
    from tongban.messages.models import Message

    with db.unit_of_work() as s:
        account_id = s.scalar(select(Account.id).where(Account.username == username))
        return list(s.scalars(select(Message.kind).where(Message.account_id == account_id).order_by(Message.id)))


def test_an_overdue_case_escalates_to_the_inboxes_of_the_department_its_head_and_the_office(  # type: ignore[no-untyped-def]
        client, login, clock, db):
    case = file(client, login("resident.zhang"), **{**NOISE_NANMEN, "type": "consult"})
    assert case["department_id"] == "dept.nanmen.office"
    assert _inbox(db, "officer.nanmen") == ["case.dispatched"]
    clock.set(dt.date(2025, 6, 16))  # past the two working days
    with db.unit_of_work() as s:
        assert engine.flag_overdue(s) == 1
    assert _inbox(db, "officer.nanmen") == ["case.dispatched", "case.supervised"]
    assert _inbox(db, "head.nanmen") == ["case.supervised"]  # the department's head
    assert _inbox(db, "supervisor.haishu") == ["case.supervised"]  # the supervising office (督查室)
    assert _inbox(db, "officer.ximen") == []  # another department hears nothing


def test_every_reporter_of_merged_cases_is_told_of_the_answer(client, login, db):  # type: ignore[no-untyped-def]
    zhang, li = login("resident.zhang"), login("resident.li")
    operator, nanmen = login("hotline.haishu"), login("officer.nanmen")
    master, repeat = file(client, zhang, **NOISE_NANMEN), file(client, li, **NOISE_NANMEN)
    assert client.post(f"/api/v1/cases/{repeat['id']}/merge", headers=operator, json={"into_id": master["id"]}).status_code == 200
    client.post(f"/api/v1/cases/{master['id']}/accept", headers=nanmen, json={})
    client.post(f"/api/v1/cases/{master['id']}/reply", headers=nanmen, json={"text": "已处理。"})
    client.post(f"/api/v1/cases/{master['id']}/close", headers=operator, json={})
    for who in ("resident.zhang", "resident.li"):
        assert [k for k in _inbox(db, who) if k.startswith("case.")] == ["case.replied", "case.closed"], who
