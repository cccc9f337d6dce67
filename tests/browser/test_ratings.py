"""好差评 in the browser: 李婷 rates her completed birth one-thing from its 请评价 message on her phone
(inbox → 查看详情 → the rating page); the market officer answers a 差评 step by step on the
workbench (回访 → 整改 → 答复); the public statistics page opens without signing in."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.browser.helpers import sign_in, switch_to, type_into
from tests.services.conftest import birth_data
from tongban import testing


def _token(base: str, username: str) -> dict[str, str]:
    resp = httpx.post(base + "/api/v1/auth/token", data={"username": username, "password": testing.DEMO_PASSWORD},
                      timeout=30)
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _completed_birth(base: str, key: str = "browser-rating-birth", child: str = "张小评") -> int:
    """李婷's birth one-thing, submitted and decided by the five departments through the API (the
    police's 户口 steps by two officers: 审批分离)."""
    li = _token(base, "resident.li")
    resp = httpx.post(base + "/api/v1/applications", headers={**li, "Idempotency-Key": key},
                      json={"onething_id": "onething.birth", "data": birth_data(child_name=child)}, timeout=60)
    assert resp.status_code in (200, 201), resp.text
    app_id = int(resp.json()["id"])
    for officer, steps in (("officer.health", 1), ("officer.cdc", 1), ("officer.police", 1), ("officer.police2", 1),
                           ("officer.medinsure", 1), ("officer.hrss", 1)):
        headers = _token(base, officer)
        for _ in range(steps):
            queue = httpx.get(base + "/api/v1/workbench/tasks?status=ready", headers=headers, timeout=30).json()["items"]
            queue += httpx.get(base + "/api/v1/workbench/tasks?status=claimed", headers=headers, timeout=30).json()["items"]
            task = next(t for t in queue if t["application_id"] == app_id)
            done = httpx.post(base + f"/api/v1/workbench/tasks/{task['id']}/decision", headers=headers,
                              json={"decision": "approve", "version": task["version"]}, timeout=60)
            assert done.status_code == 200, done.text
    final = httpx.get(base + f"/api/v1/applications/{app_id}", headers=li, timeout=30).json()
    assert final["status"] == "completed", final["status"]
    return app_id


def test_a_resident_rates_a_completed_birth_application_from_its_message(phone: Any,
                                                                         live_server: testing.LiveServer) -> None:
    app_id = _completed_birth(live_server.base)
    sign_in(phone, "resident.li")
    phone.get_by_role("link", name="您的消息").click()
    card = phone.locator("li.message", has_text="请评价").first
    expect(card).to_be_visible()  # waits for the inbox the click opens
    with phone.expect_navigation():
        card.get_by_role("link", name="请评价").click()
    with phone.expect_navigation():
        phone.get_by_role("link", name="查看详情").click()
    assert phone.url.endswith(f"/ratings/rate/application/{app_id}")
    expect(phone.locator("#rated-title")).to_have_text("出生一件事")
    phone.get_by_role("radio", name="★★★★ 满意", exact=True).check()
    phone.locator("#dim_efficiency").select_option(label="非常满意")
    phone.get_by_role("checkbox", name="一次办成").check()
    type_into(phone, "#comment", "材料只交了一次，很方便")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    with phone.expect_navigation():
        phone.get_by_role("button", name="提交评价").click()
    expect(phone.locator("#rated")).to_contain_text("感谢您的评价")
    expect(phone.locator("#rated")).to_contain_text("材料只交了一次，很方便")
    # The birth one-thing is rated department by department too (the pack's task_ratings).
    part = phone.locator("#parts li", has_text="出生医学证明")
    with phone.expect_navigation():
        part.get_by_role("link", name="去评价").click()
    expect(phone.locator("#rated-title")).to_have_text("出生医学证明首次签发")
    phone.get_by_role("radio", name="★★★★★ 非常满意", exact=True).check()
    with phone.expect_navigation():
        phone.get_by_role("button", name="提交评价").click()
    expect(phone.locator("#rated")).to_contain_text("感谢您的评价")
    with phone.expect_navigation():
        phone.get_by_role("link", name="返回办件评价").click()
    expect(phone.locator("#parts li", has_text="出生医学证明")).to_contain_text("评价：5 / 5")
    # 我要评 lists it as rated; the form is gone for good.
    phone.goto("/portal/ratings")
    expect(phone.locator("#ratable li", has_text="出生一件事").first).to_contain_text("★★★★")


def test_an_officer_answers_a_poor_rating_step_by_step(desk: Any, phone: Any, live_server: testing.LiveServer) -> None:
    base = live_server.base
    zhao, market, operator = (_token(base, u) for u in ("resident.zhao", "officer.market", "hotline.haishu"))
    case = httpx.post(base + "/api/v1/cases", headers=zhao, timeout=30, json={
        "description": "中山路早餐店后厨卫生很差（浏览器测试）", "category_id": "case.food", "type": "complaint",
        "region_code": "330203005001", "address": "鼓楼街道中山路"}).json()
    for path, who, body in ((f"/cases/{case['id']}/accept", market, {}),
                            (f"/cases/{case['id']}/reply", market, {"text": "已上门检查并责令整改。"}),
                            (f"/cases/{case['id']}/close", operator, {})):
        assert httpx.post(base + "/api/v1" + path, headers=who, json=body, timeout=30).status_code == 200
    rated = httpx.post(base + "/api/v1/ratings", headers=zhao, timeout=30,
                       json={"kind": "case", "subject_id": case["id"], "level": 1, "tags": ["tag.attitude"],
                             "comment": "整改后又脏了"})
    assert rated.status_code == 201, rated.text
    rect_id = rated.json()["rectification_id"]

    switch_to(desk, "officer.market")
    desk.get_by_role("link", name=re.compile("好差评与整改")).click()
    row = desk.locator("#rectifications tr", has_text=f"{rect_id} 号")
    expect(row).to_contain_text("待回访")
    with desk.expect_navigation():
        row.get_by_role("link", name=f"{rect_id} 号").click()
    expect(desk.locator("main")).to_contain_text("整改后又脏了")
    for text, button, status in (("已电话回访，群众反映属实", "记录回访", "待整改"),
                                 ("已联合街道复查并约谈店主", "记录整改", "待答复"),
                                 ("已整改到位，欢迎继续监督", "发送答复", "已答复")):
        type_into(desk, "#text", text)
        with desk.expect_navigation():
            desk.get_by_role("button", name=button).click()
        expect(desk.locator("#rect-status")).to_have_text(status)
    expect(desk.locator("#reply")).to_contain_text("已整改到位，欢迎继续监督")

    # The resident reads the answer from 我要评 and rates it once.
    sign_in(phone, "resident.zhao")
    phone.goto("/portal/ratings")
    with phone.expect_navigation():
        phone.locator("#ratable li", has_text="食品安全").first.get_by_role("link", name="部门的整改答复").click()
    expect(phone.locator("#answer")).to_contain_text("已整改到位，欢迎继续监督")
    phone.get_by_role("radio", name="基本满意").check()
    with phone.expect_navigation():
        phone.get_by_role("button", name="提交评价").click()
    expect(phone.locator("#followed-up")).to_contain_text("3 / 5")

    # The department appeals the rating; a reviewer outside it upholds the appeal.
    desk.goto("/workbench/ratings")
    item = desk.locator("#bad-ratings li", has_text="整改后又脏了")
    item.get_by_text("对此评价提出申诉").click()
    item.locator("select[name=grounds]").select_option(label="恶意评价")
    type_into(desk, f"#reason-{rated.json()['id']}", "店家已提供整改后检查记录，评价与事实不符")
    with desk.expect_navigation():
        item.get_by_role("button", name="提交申诉").click()
    expect(desk.locator("#bad-ratings li", has_text="整改后又脏了")).to_contain_text("申诉：待复核")
    switch_to(desk, "reviewer.haishu")
    desk.goto("/workbench/ratings")
    pending = desk.locator("#appeals li", has_text="整改后又脏了")
    expect(pending).to_contain_text("恶意评价")
    with desk.expect_navigation():
        pending.get_by_role("button", name="申诉成立：不计入统计").click()
    expect(desk.locator("#appeals li", has_text="整改后又脏了")).to_have_count(0)


def test_an_officer_hands_the_counter_tablet_to_a_resident(desk: Any, live_server: testing.LiveServer) -> None:
    app_id = _completed_birth(live_server.base, key="browser-rating-counter", child="张小柜")
    switch_to(desk, "officer.health")
    desk.goto("/workbench")
    desk.get_by_role("link", name=re.compile("窗口评价器")).click()
    type_into(desk, "#application", "12x")
    with desk.expect_navigation():
        desk.get_by_role("button", name="请群众在评价器上评价").click()
    expect(desk.locator(".error-summary")).to_contain_text("请输入办件编号")
    desk.locator("#application").fill("")
    type_into(desk, "#application", str(app_id))
    with desk.expect_navigation():
        desk.get_by_role("button", name="请群众在评价器上评价").click()
    expect(desk.locator("h1")).to_have_text("请对本次服务作出评价")
    desk.get_by_role("radio", name="★★★★★ 非常满意").check()
    with desk.expect_navigation():
        desk.get_by_role("button", name="提交评价").click()
    expect(desk.locator("#counter-done")).to_contain_text("评价已记录")


def test_the_public_statistics_page_renders_without_signing_in(phone: Any) -> None:
    phone.goto("/ratings/stats")
    expect(phone.locator("h1")).to_have_text("政务服务好差评")
    phone.locator("#by").select_option(label="事项")
    with phone.expect_navigation():
        phone.get_by_role("button", name="显示").click()
    assert "by=item" in phone.url
    expect(phone.locator("h1")).to_have_text("政务服务好差评")
