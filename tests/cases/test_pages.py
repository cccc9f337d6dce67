"""The case pages through the web app (forms, cookies, CSRF): 我要说 with a photo, the department's
queue and its steps, the operator's intake with an emergency refused, the grid worker's report."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.services.test_pages import _csrf, as_user
from tongban.cases.models import Case, CaseAttachment

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _case_id(location: str) -> int:
    m = re.search(r"/cases/(\d+)$", location)
    assert m, location
    return int(m.group(1))


def test_a_resident_files_with_a_photo_and_an_officer_answers(client, demo, db):  # type: ignore[no-untyped-def]
    token = as_user(client, "resident.zhang")
    page = client.get("/portal")
    assert 'href="/portal/cases"' in page.text  # 我要说 is open, no longer "coming soon"
    form = client.get("/portal/cases/new")
    assert form.status_code == 200 and "噪声扰民" in form.text
    r = client.post("/portal/cases", data={
        "csrf_token": _csrf(form.text), "type": "complaint", "category_id": "case.noise",
        "description": "楼下工地夜间施工噪音很大", "region_code": "330203001001", "address": "解放南路128号"},
        files={"photo": ("site.png", PNG, "image/png")}, follow_redirects=False)
    assert r.status_code == 303, r.text
    case_id = _case_id(r.headers["location"])
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(CaseAttachment).where(CaseAttachment.case_id == case_id)) == 1
    mine = client.get(f"/portal/cases/{case_id}")
    assert "已派单" in mine.text and "南门街道办事处" in mine.text

    token = as_user(client, "officer.nanmen")
    queue = client.get("/workbench/cases")
    assert f'/workbench/cases/{case_id}"' in queue.text
    detail = client.get(f"/workbench/cases/{case_id}")
    assert "张明" in detail.text  # not anonymous, not a 举报: the department may call back
    version = re.search(r'name="version" value="(\d+)"', detail.text).group(1)  # type: ignore[union-attr]
    r = client.post(f"/workbench/cases/{case_id}/accept", data={"csrf_token": token, "version": version},
                    follow_redirects=False)
    assert r.status_code == 303
    # A stale version (another officer's click) is refused, and nothing changes.
    r = client.post(f"/workbench/cases/{case_id}/reply", data={"csrf_token": token, "version": version,
                                                               "text": "旧版本"}, follow_redirects=False)
    assert r.status_code == 422 and "其他人已修改" in r.text
    detail = client.get(f"/workbench/cases/{case_id}")
    version = re.search(r'name="version" value="(\d+)"', detail.text).group(1)  # type: ignore[union-attr]
    r = client.post(f"/workbench/cases/{case_id}/reply", data={"csrf_token": token, "version": version,
                                                               "text": "已责令工地22点后停工。"}, follow_redirects=False)
    assert r.status_code == 303

    as_user(client, "resident.zhang")
    mine = client.get(f"/portal/cases/{case_id}")
    assert "已责令工地22点后停工。" in mine.text and "已答复" in mine.text


def test_the_operator_intake_refuses_an_emergency_with_its_number(client, demo, db):  # type: ignore[no-untyped-def]
    as_user(client, "hotline.haishu")
    form = client.get("/workbench/cases/new")
    assert form.status_code == 200 and "来电人姓名" in form.text
    r = client.post("/workbench/cases/new", data={
        "csrf_token": _csrf(form.text), "reporter_name": "刘洋", "reporter_phone": "13800000999", "type": "help",
        "category_id": "case.other", "description": "家里老人突然昏迷了", "region_code": "330203001",
        "address": "解放南路1号"}, follow_redirects=False)
    assert r.status_code == 422 and "120" in r.text
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_the_suggestion_shows_the_matched_words(client, demo):  # type: ignore[no-untyped-def]
    token = as_user(client, "hotline.haishu")
    r = client.post("/workbench/cases/suggest", data={"description": "小区停水两天了，水压也低"},
                    headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and "供水问题" in r.text and "停水" in r.text


def test_a_grid_worker_reports_an_event_from_the_phone_page(client, demo):  # type: ignore[no-untyped-def]
    as_user(client, "grid.nanmen")
    form = client.get("/workbench/cases/new")
    assert form.status_code == 200 and "垃圾乱堆放" in form.text and "噪声扰民" not in form.text
    r = client.post("/workbench/cases/new", data={
        "csrf_token": _csrf(form.text), "category_id": "grid.garbage", "description": "楼道堆放大量纸箱杂物",
        "region_code": "330203001001", "address": "紫金巷12号", "longitude": "121.544", "latitude": "29.866",
        "datum": "GCJ02"}, files={"photo": ("p.png", PNG, "image/png")}, follow_redirects=False)
    assert r.status_code == 303, r.text
    case_id = _case_id(r.headers["location"])
    page = client.get(f"/workbench/cases/{case_id}")
    assert page.status_code == 200 and "GCJ02" in page.text
    assert f"/workbench/cases/{case_id}" in client.get("/workbench/cases").text


def test_a_resident_gets_the_suggestion_while_typing(client, demo):  # type: ignore[no-untyped-def]
    token = as_user(client, "resident.sun")
    r = client.post("/portal/cases/suggest", data={"description": "门口人行道地砖松动"},
                    headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert r.status_code == 200 and "道路破损" in r.text and "人行道" in r.text


def test_the_operator_finds_the_caller_and_files_for_them(client, demo, db):  # type: ignore[no-untyped-def]
    from tests.services.conftest import ZHANG_ID, person_id

    token = as_user(client, "hotline.haishu")
    form = client.get("/workbench/cases/new")
    assert 'id="caller_query"' in form.text and 'hx-post="/workbench/cases/callers"' in form.text
    found = client.post("/workbench/cases/callers", data={"caller_query": "13800000101"},
                        headers={"X-CSRF-Token": token})
    pid = person_id(db, ZHANG_ID)
    assert found.status_code == 200 and f'name="caller_person_id" value="{pid}"' in found.text
    assert "张明" not in found.text and "13800000101" not in found.text and "138****0101" in found.text
    none = client.post("/workbench/cases/callers", data={"caller_query": "13999999999"},
                       headers={"X-CSRF-Token": token})
    assert "没有" in none.text and 'name="caller_person_id" value=""' in none.text
    by_name = client.post("/workbench/cases/callers", data={"caller_query": "张明"}, headers={"X-CSRF-Token": token})
    assert "出生日期" in by_name.text and "caller_person_id" not in by_name.text
    r = client.post("/workbench/cases/new", data={
        "csrf_token": _csrf(form.text), "reporter_name": "张明", "reporter_phone": "13800000101",
        "caller_person_id": str(pid), "category_id": "case.noise", "description": "楼下工地夜间施工噪音很大",
        "region_code": "330203001001", "address": "解放南路128号"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    case_id = _case_id(r.headers["location"])
    as_user(client, "resident.zhang")
    assert f"/portal/cases/{case_id}" in client.get("/portal/cases").text  # he follows it in 我要说
