"""找人帮我办 in the browser: 张明 lets his wife 李婷 apply for him from the portal, she files his
unemployment registration on her phone and both see who filed it; a clerk at the Zijinxiang
community service centre files for 张明 at the window, and he sees the clerk named in his timeline."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.helpers import receipt_number, sign_in, switch_to, type_into

ZHANG = {"#applicant_name": "张明", "#applicant_id_number": "330203199203150314", "#applicant_phone": "13800000101"}


def test_a_relative_files_for_a_resident_who_asked_them(phone: Any) -> None:
    sign_in(phone, "resident.zhang")
    with phone.expect_navigation():
        phone.get_by_role("link", name=re.compile("找人帮我办")).click()
    type_into(phone, "#proxy_id_number", "330203199408210421")
    phone.locator("#scope").select_option(label="失业登记")
    with phone.expect_navigation():
        phone.get_by_role("button", name="授权", exact=True).click()
    given = phone.locator("#given li")
    expect(given).to_have_count(1)
    assert "李*" in given.inner_text() and "失业登记" in given.inner_text()

    switch_to(phone, "resident.li")
    with phone.expect_navigation():
        phone.get_by_role("link", name=re.compile("找人帮我办")).click()
    with phone.expect_navigation():
        phone.get_by_role("button", name=re.compile("为张\\*申请")).click()
    expect(phone.locator("#filing-for")).to_contain_text("张*")
    for selector, value in ZHANG.items():
        type_into(phone, selector, value)
    with phone.expect_navigation():
        phone.get_by_role("button", name="一次提交").click()
    app_id = receipt_number(phone)
    assert "受托人代办" in phone.locator("main").inner_text()

    switch_to(phone, "resident.zhang")
    phone.goto("/portal/applications")
    row = phone.locator(f'a[href="/portal/applications/{app_id}"]')
    expect(row).to_have_count(1)
    with phone.expect_navigation():
        row.click()
    history = phone.locator("main").inner_text()
    assert "受托人代办" in history and "李*" in history, history

    # He withdraws the authorisation; it shows as withdrawn at once.
    phone.goto("/portal/proxies")
    with phone.expect_navigation():
        phone.locator("#given").get_by_role("button", name="撤回").click()
    expect(phone.locator("#given li")).to_contain_text("已于")


def test_a_community_counter_clerk_files_for_a_resident(desk: Any, phone: Any) -> None:
    sign_in(desk, "counter.zijinxiang")
    with desk.expect_navigation():
        desk.get_by_role("link", name=re.compile("窗口代办")).click()
    type_into(desk, "#id_number", "330203199203150314")
    desk.get_by_label("居民签字确认").check()
    desk.locator("#target").select_option(label="失业登记")
    with desk.expect_navigation():
        desk.get_by_role("button", name="打开申请表").click()
    expect(desk.locator("#filing-for")).to_contain_text("张*")
    for selector, value in ZHANG.items():
        type_into(desk, selector, value)
    with desk.expect_navigation():
        desk.get_by_role("button", name="一次提交").click()
    app_id = int(desk.locator(".submitted .receipt").inner_text())
    expect(desk.locator(f'#filings li[data-application="{app_id}"]')).to_have_count(1)

    sign_in(phone, "resident.zhang")
    phone.goto(f"/portal/applications/{app_id}")
    history = phone.locator("main").inner_text()
    assert "俞芳" in history and "南门" in history, history
