"""督办 from the cockpit in the browser (issue #31): a leader raises a 督办 on an early warning with a
typed note and is told the case's number; the department's officer finds the 督办 among their
reminders and opens the case from it."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.helpers import sign_in, switch_to
from tongban import testing
from tongban.cockpit import store
from tongban.cockpit.models import CockpitWarning
from tongban.core.db import Database

NOTE = "请本周内补足西门街道在岗人员，审核与审批分岗办理"


def _warned(live: testing.LiveServer) -> None:
    """Refresh the live server's cockpit; 西门街道办事处 has one staff account, so the demo's rule
    `warn.thin-department` (fewer than two) is raised for it."""
    db = Database(live.url)
    try:
        with db.unit_of_work() as s:
            store.refresh(s)
            assert s.scalars(select(CockpitWarning).where(CockpitWarning.rule == "warn.thin-department",
                                                          CockpitWarning.actor == "dept.ximen.office")).first()
    finally:
        db.dispose()


def _unfold(desk: Any) -> None:
    """Open the warnings folded beyond the first five, if any (as a leader would to find one)."""
    more = desk.locator("details.more-warnings > summary")
    if more.count():
        more.click()


def test_a_leader_supervises_a_warning_and_the_department_opens_the_case(
        desk: Any, live_server: testing.LiveServer) -> None:
    _warned(live_server)
    sign_in(desk, "leader.haishu")
    assert "/cockpit" in desk.url
    _unfold(desk)
    line = desk.locator(".warnings li.warning", has_text="部门在岗人员不足").filter(has_text="西门街道办事处")
    expect(line).to_have_count(1)
    line.locator("summary", has_text="督办").click()
    note = line.get_by_label(re.compile("要求西门街道办事处做什么"))
    expect(note).to_be_visible()
    note.press_sequentially(NOTE)
    with desk.expect_navigation():
        line.get_by_role("button", name="发起督办").click()
    notice = desk.locator("#cockpit-notice")
    expect(notice).to_contain_text("已督办，案件编号")
    m = re.search(r"案件编号 (\d+)", notice.inner_text())
    assert m, notice.inner_text()
    case_id = m.group(1)
    _unfold(desk)
    line = desk.locator(".warnings li.warning", has_text="部门在岗人员不足").filter(has_text="西门街道办事处")
    expect(line.locator(".supervised")).to_contain_text(f"已督办（案件 {case_id}）")
    expect(line.get_by_role("link", name="打开案件")).to_have_attribute("href", f"/workbench/cases/{case_id}")
    expect(line.locator("summary")).to_have_count(0)  # not twice while its case is open

    switch_to(desk, "officer.ximen")
    desk.get_by_role("link", name="我的提醒").click()
    card = desk.locator("li.message", has_text=f"{case_id} 号已被督办")
    expect(card).to_have_count(1)
    assert "诉求督办" in card.inner_text() and "督办事项" in card.inner_text()
    with desk.expect_navigation():
        card.get_by_role("link").first.click()
    with desk.expect_navigation():
        desk.get_by_role("link", name="查看详情").click()
    assert desk.url.endswith(f"/workbench/cases/{case_id}")
    body = desk.locator("main")
    expect(body).to_contain_text(NOTE)
    expect(body).to_contain_text("督办事项")
