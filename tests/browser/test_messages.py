"""Messages in the browser: a resident on a phone opens their messages from the portal, reads one
(which marks it read) and follows its link; an officer at a desk finds a deadline warning under
their reminders, marks it read and goes on to the task list from it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.helpers import open_from_home, sign_in
from tongban import messages, testing
from tongban.core.db import Database
from tongban.core.identity.models import Account

ITEM = {"zh": "低保申请（浏览器测试）", "en": "Subsistence allowance (browser test)"}


def _send(live: testing.LiveServer, **kw: Any) -> None:
    """A factory: the message as a slice sends it, written to the live server's database."""
    db = Database(live.url)
    try:
        with db.unit_of_work() as s:
            to = kw.pop("to")
            if isinstance(to, str):
                to = s.scalars(select(Account.id).where(Account.username == to)).one()
            messages.send(s, to=to, **kw)
    finally:
        db.dispose()


@pytest.mark.elder_too
def test_a_resident_reads_a_message_and_follows_its_link(phone: Any, live_server: testing.LiveServer) -> None:
    title = "低保申请（浏览器测试，长辈版）" if phone.elder else ITEM["zh"]  # one message per run
    _send(live_server, to="resident.sun", kind="application.submitted", link="/portal/applications",
          params={"item": {**ITEM, "zh": title}, "step": {"zh": "已提交，等待部门受理", "en": "submitted"}})
    sign_in(phone, "resident.sun")
    open_from_home(phone, "您的消息")
    card = phone.locator("li.message", has_text=title)
    expect(card).to_have_count(1)  # waits for the inbox page the click opens
    assert "您的申请已提交" in card.inner_text() and "已提交，等待部门受理" in card.inner_text()
    assert "unread" in (card.get_attribute("class") or "")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    with phone.expect_navigation():
        card.get_by_role("link", name="您的申请已提交").click()  # the message in full
    assert title in phone.locator("article").inner_text()
    with phone.expect_navigation():
        phone.get_by_role("link", name="查看详情").click()  # and on to what it is about
    assert phone.url.endswith("/portal/applications")
    phone.goto("/portal/messages")
    card = phone.locator("li.message", has_text=title)
    assert "unread" not in (card.get_attribute("class") or "")  # reading it marked it read


def test_an_officer_sees_a_deadline_warning(desk: Any, live_server: testing.LiveServer) -> None:
    _send(live_server, to=messages.Queue("dept.ximen.office"), kind="task.deadline_warning",
          link="/workbench/tasks", params={"item": ITEM, "application": 990001, "task": 1,
                                           "due_date": "2026-12-10", "used": 4, "allowed": 5})
    sign_in(desk, "officer.ximen")
    desk.get_by_role("link", name="我的提醒").click()
    card = desk.locator("li.message", has_text="990001")
    assert "办件即将超期（已用时限80%）" in card.inner_text() and "2026-12-10" in card.inner_text()
    card.get_by_role("button", name="标为已读").click()  # htmx swaps the card in place
    desk.locator("li.message:not(.unread)", has_text="990001").wait_for()
    with desk.expect_navigation():
        desk.locator("li.message", has_text="990001").get_by_role("link").click()
    with desk.expect_navigation():
        desk.get_by_role("link", name="查看详情").click()
    assert desk.url.endswith("/workbench/tasks")
