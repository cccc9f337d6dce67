"""12345 in the browser: a resident files a case on a phone (typing, with a photo) and follows it;
the department's officer takes it on and answers at a desk; the operator enters a call; a grid
worker reports an event from the phone."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.helpers import sign_in, switch_to

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _case_id(url: str) -> str:
    m = re.search(r"/cases/(\d+)$", url)
    assert m, url
    return m.group(1)


def test_a_resident_files_on_a_phone_and_an_officer_answers_at_a_desk(phone: Any, desk: Any) -> None:
    from playwright.sync_api import expect

    sign_in(phone, "resident.sun")
    phone.wait_for_load_state("networkidle")  # the portal loads its entitlement card after the page
    with phone.expect_navigation():
        phone.get_by_role("link", name=re.compile("我要说")).click()
    with phone.expect_navigation():
        phone.get_by_role("link", name="我要反映").click()
    phone.locator("#type").select_option("help")
    phone.locator("#description").press_sequentially("白云社区门口人行道地砖松动，老人容易绊倒")
    expect(phone.locator("#suggestions")).to_contain_text("道路破损")  # suggested by its keywords
    phone.locator("#category_id").select_option("case.road")
    phone.locator("#region_code").select_option("330203006001")
    phone.locator("#address").press_sequentially("白云街道白云社区门口")
    phone.locator("#photo").set_input_files(files=[{"name": "road.png", "mimeType": "image/png", "buffer": PNG}])
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # the form fits the phone
    with phone.expect_navigation():
        phone.get_by_role("button", name="提交").click()
    case_id = _case_id(phone.url)
    expect(phone.locator("#case-status")).to_have_text("已派单")
    assert "海曙区住房和城乡建设局" in phone.locator("body").inner_text()

    sign_in(desk, "officer.housing")
    desk.goto("/workbench/cases")
    with desk.expect_navigation():
        desk.locator(f'a[href="/workbench/cases/{case_id}"]').click()
    expect(desk.locator("#reporter")).to_contain_text("孙悦")  # named, not a 举报: the department may call back
    with desk.expect_navigation():
        desk.get_by_role("button", name="签收").click()
    expect(desk.locator("#case-status")).to_have_text("办理中")
    desk.locator("#text").press_sequentially("已安排维修班组更换松动地砖。")
    with desk.expect_navigation():
        desk.get_by_role("button", name="发送答复").click()
    expect(desk.locator("#case-status")).to_have_text("已答复")

    phone.reload()
    expect(phone.locator("#reply")).to_contain_text("已安排维修班组更换松动地砖。")
    expect(phone.locator("#case-status")).to_have_text("已答复")


def test_an_operator_enters_a_call_and_an_emergency_is_refused(desk: Any) -> None:
    from playwright.sync_api import expect

    sign_in(desk, "hotline.haishu")
    desk.goto("/workbench/cases")
    with desk.expect_navigation():
        desk.get_by_role("link", name="来电登记").click()
    # 找人: the caller's number finds the registered resident (masked, through the data hub).
    desk.locator("#caller_query").press_sequentially("13800000101")
    desk.get_by_role("button", name="查找").click()
    expect(desk.locator("#callers")).to_contain_text("138****0101")
    expect(desk.locator("#callers")).not_to_contain_text("张明")
    desk.locator('#callers input[name="caller_person_id"]').first.check()
    desk.locator("#reporter_name").press_sequentially("张明")
    desk.locator("#reporter_phone").press_sequentially("13800000101")
    desk.locator("#description").press_sequentially("家里老人突然昏迷了")
    expect(desk.locator("#suggestions")).to_contain_text("120")  # said while typing
    desk.locator("#category_id").select_option("case.other")
    desk.locator("#address").press_sequentially("解放南路1号")
    desk.watch.allow("/workbench/cases/new")  # the refusal is a 422 page, on purpose
    desk.get_by_role("button", name="登记诉求").click()
    expect(desk.locator(".error-summary")).to_contain_text("请立即拨打 120")
    expect(desk.locator('#callers input[name="caller_person_id"]').first).to_be_checked()  # the choice is kept
    desk.locator("#description").fill("")
    desk.locator("#description").press_sequentially("小区停水两天了，水压也低")
    expect(desk.locator("#suggestions")).to_contain_text("供水问题")
    desk.locator("#category_id").select_option("case.water")
    with desk.expect_navigation():
        desk.get_by_role("button", name="登记诉求").click()
    expect(desk.locator("#case-status")).to_have_text("已派单")
    expect(desk.locator("#reporter")).to_contain_text("张明")
    case_id = _case_id(desk.url)
    # Attached to 张明's registry record, so he follows the call in 我要说.
    switch_to(desk, "resident.zhang")
    desk.goto("/portal/cases")
    expect(desk.locator(f'a[href="/portal/cases/{case_id}"]')).to_be_visible()


def test_a_grid_worker_reports_an_event_from_the_phone(phone: Any) -> None:
    from playwright.sync_api import expect

    sign_in(phone, "grid.nanmen")
    phone.goto("/workbench/cases")
    with phone.expect_navigation():
        phone.get_by_role("link", name="上报网格事件").click()
    phone.locator("#description").press_sequentially("楼道堆放大量纸箱杂物")
    expect(phone.locator("#suggestions")).to_contain_text("垃圾乱堆放")  # the grid categories' keywords
    phone.locator("#category_id").select_option("grid.garbage")
    phone.locator("#address").press_sequentially("紫金巷12号楼道")
    phone.locator("#photo").set_input_files(files=[{"name": "p.png", "mimeType": "image/png", "buffer": PNG}])
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    with phone.expect_navigation():
        phone.get_by_role("button", name="上报").click()
    expect(phone.locator("#case-status")).to_have_text("已派单")
    assert "南门街道办事处" in phone.locator("body").inner_text()
