"""The cockpit in the browser: a leader opens it, sees the figures with their as-of time and the
early warnings naming who can act, looks one level down and exports the table; a head of
department sees their own department's figures only."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.helpers import sign_in, switch_to


def test_a_leader_sees_figures_and_warnings_and_exports(desk: Any) -> None:
    sign_in(desk, "leader.haishu")
    assert "/cockpit" in desk.url
    # (another test of the session may have raised a warning of another rule: pick this rule's)
    thin = desk.locator("#warnings li.warning", has_text="部门在岗人员不足").first
    expect(thin).to_be_visible()
    assert "处置责任方" in thin.inner_text()
    expect(thin.get_by_role("link", name="前往处置")).to_have_attribute("href", "/workbench")
    with desk.expect_navigation():
        desk.locator("#indicators").get_by_role("link", name="工作人员账号").click()
    expect(desk.locator("#as-of")).to_contain_text("数据截至")
    table = desk.locator("#figures tbody tr")
    expect(table.first).to_contain_text("海曙区")  # the district's total first, then its streets
    expect(desk.locator("#figures .suppressed").first).to_be_visible()  # small counts are not shown
    desk.locator("select[name=level]").select_option(label="社区")
    with desk.expect_navigation():
        desk.get_by_role("button", name="显示").click()
    assert "level=community" in desk.url
    expect(desk.locator("#figures tbody tr").filter(has_text="南门街道办事处").first).to_be_visible()
    with desk.expect_download() as download:
        desk.locator("#export-xlsx").click()
    assert re.fullmatch(r"cockpit\.staff-330203-community-\d{8}-\d{8}\.xlsx", download.value.suggested_filename)
    csv = desk.request.get(desk.locator("#export-csv").get_attribute("href"))
    assert csv.status == 200 and csv.body().startswith(b"\xef\xbb\xbf")
    assert "南门街道办事处" in csv.body().decode("utf-8-sig")


def test_a_department_head_sees_only_their_department(desk: Any) -> None:
    switch_to(desk, "head.nanmen")
    with desk.expect_navigation():
        desk.get_by_role("link", name=re.compile("本部门指标")).click()
    expect(desk.get_by_text("您只能查看本部门的指标。")).to_be_visible()
    with desk.expect_navigation():
        desk.locator("#indicators").get_by_role("link", name="工作人员账号").click()
    rows = desk.locator("#figures tbody tr")
    expect(rows.first).to_be_visible()
    expect(rows.filter(has_not_text="南门街道办事处")).to_have_count(0)
    expect(rows.filter(has_text="南门街道办事处").first).to_be_visible()
