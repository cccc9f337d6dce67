"""What a person does in the browser tests, as steps a test reads like a sentence."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tongban import testing


def sign_in(page: Any, username: str, password: str = testing.DEMO_PASSWORD) -> None:
    """Sign in as a person does: open the login page, type the username and password, press Enter."""
    page.goto("/login")
    page.locator("#username").press_sequentially(username)
    page.locator("#password").press_sequentially(password)
    with page.expect_navigation():
        page.locator("#password").press("Enter")
    assert "/login" not in page.url, f"signing in as {username} failed: {page.locator('body').inner_text()[:300]}"
    settle_mode(page)


def is_elder(page: Any) -> bool:
    """Does the page on screen show 长辈版?"""
    return bool(page.evaluate("document.documentElement.classList.contains('elder')"))


def settle_mode(page: Any) -> None:
    """Put the account in the page's mode (`page.elder`: 长辈版 or not; None leaves it), by the
    header's 长辈版 switch, as a person would — the account remembers it from one test to the next."""
    want = getattr(page, "elder", None)
    if want is None or is_elder(page) == want:
        return
    with page.expect_navigation():
        page.get_by_role("button", name="长辈版").click()
    assert is_elder(page) == want


# What a tile of the portal home is called on the 长辈版 home (plain words); a tile not there is
# reached through 查看全部服务.
ELDER_NAMES = {"我要办": "办事", "我要查": "查进度", "您的数字证件": "我的证件"}


def open_from_home(page: Any, tile: str) -> None:
    """On the resident's home, open the tile named `tile` (its 长辈版 name in 长辈版)."""
    if is_elder(page):
        if tile in ELDER_NAMES:
            label = page.locator(".elder-task-label", has_text=re.compile(f"^{ELDER_NAMES[tile]}$"))
            page.locator(".elder-task").filter(has=label).click()
            return
        with page.expect_navigation():
            page.get_by_role("link", name="查看全部服务").click()
    page.get_by_role("link", name=re.compile(tile)).click()


def sign_out(page: Any) -> None:
    """Press 退出登录 in the header."""
    with page.expect_navigation():
        page.get_by_role("button", name="退出登录").click()


def switch_to(page: Any, username: str) -> None:
    """The next person at the same screen: sign out (when signed in) and sign in as `username`."""
    if not page.get_by_role("button", name="退出登录").count() and page.url.startswith("http"):
        page.goto("/")  # a page with the header (a fragment or a download has none)
    if page.get_by_role("button", name="退出登录").count():
        sign_out(page)
    sign_in(page, username)


def type_into(page: Any, selector: str, text: str) -> None:
    """Focus a field and type `text` key by key, then leave it with Tab (where its check runs)."""
    field = page.locator(selector)
    field.focus()
    field.press_sequentially(text)
    field.press("Tab")


def type_date(page: Any, selector: str, day: dt.date) -> None:
    """Type a date into a date field as a person does, segment by segment in the order the browser
    shows them (this Chromium shows mm/dd/yyyy), then leave it with Tab."""
    field = page.locator(selector)
    field.focus()
    field.press_sequentially(day.strftime("%m%d%Y"))
    if field.input_value() != day.isoformat():  # a browser showing yyyy/mm/dd
        field.fill("")
        field.focus()
        field.press_sequentially(day.strftime("%Y%m%d"))
    leave(page, selector)


def leave(page: Any, selector: str) -> None:
    """Press Tab until the focus has left the field (a date field's picker button takes one Tab)."""
    for _ in range(3):
        page.keyboard.press("Tab")
        if not page.locator(selector).evaluate("e => e === document.activeElement || e.contains(document.activeElement)"):
            return


def receipt_number(page: Any) -> int:
    """The number on the 提交成功 receipt the application page shows right after submitting."""
    banner = page.locator(".submitted")
    assert banner.count() and "提交成功" in banner.inner_text(), page.locator("main").inner_text()[:1500]
    return int(banner.locator(".receipt").inner_text())


def open_task(page: Any, application_id: int) -> None:
    """From the workbench, open the task queue and the task of application `application_id`
    (waiting for the department, or already the officer's own)."""
    page.goto("/workbench")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("待办事项")).click()
    row = page.locator(f'tr[data-application="{application_id}"]')
    if not row.count():
        with page.expect_navigation():
            page.locator('.tabs a[href="/workbench/tasks?tab=mine"]').click()
    assert row.count() == 1, f"application {application_id} is not in the queue: {page.locator('main').inner_text()[:800]}"
    with page.expect_navigation():
        row.locator("a").first.click()


def decide(page: Any, decision: str = "通过", reason: str | None = None, **outputs: str) -> None:
    """On a task page: pick the decision, type the reason and any decision fields, record it."""
    page.get_by_label(decision, exact=True).check()
    if reason:
        type_into(page, "#reason", reason)
    for name, value in outputs.items():
        type_into(page, f"#out-{name}", value)
    with page.expect_navigation():
        page.get_by_role("button", name="提交办理意见").click()
    assert not page.locator("#error-summary").count(), page.locator("#error-summary").inner_text()


# --- the catalogue: search, guide, a single item's form (tests/browser/test_catalogue.py) ----------


def search_from_header(page: Any, text: str) -> None:
    """Type into the search box in the page's header and press Enter (the results page opens)."""
    box = page.locator("#site-q")
    box.focus()
    box.press_sequentially(text)
    with page.expect_navigation():
        box.press("Enter")


def start_from_guide(page: Any) -> None:
    """Press 开始办理 on a guide page (a visitor lands on the login page, a resident on the consent box)."""
    with page.expect_navigation():
        page.get_by_role("link", name="开始办理", exact=True).click()


def fill_item_form(page: Any, values: dict[str, str]) -> None:
    """Fill a single item's (or a one-thing's) form as a person does: each field in `values` (its
    element id) typed over what is there. Steps a later form needs (materials) go here too."""
    for element, text in values.items():
        field = page.locator(f"#{element}")
        field.fill("")
        type_into(page, f"#{element}", text)


def submit_item_form(page: Any) -> int:
    """Press 一次提交 and return the number on the 提交成功 receipt."""
    with page.expect_navigation():
        page.get_by_role("button", name="一次提交").click()
    return receipt_number(page)
