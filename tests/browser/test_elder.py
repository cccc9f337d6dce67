"""长辈版 in the browser (issue #23): chosen before signing in and kept by the account on another
device, the simpler home with big buttons and the help line; and the birth form completed with
the keyboard alone, from the login page to the receipt."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import is_elder, receipt_number, sign_in, sign_out
from tongban import testing


def test_elder_mode_from_the_login_page_to_another_device(phone: Any, browser: Any, live_server: Any) -> None:
    phone.goto("/login")
    with phone.expect_navigation():
        phone.get_by_role("button", name="长辈版").click()
    assert is_elder(phone)
    expect(phone.locator(".help-line-bar")).to_contain_text("0574-12345")
    phone.elder = True  # what this visitor chose: sign_in keeps it
    sign_in(phone, "resident.zhao")
    tasks = phone.locator(".elder-task")
    expect(tasks).to_have_count(4)
    for i in range(4):  # big buttons, one a row
        box = tasks.nth(i).bounding_box()
        assert box["height"] >= 64 and box["width"] >= 300, box
    assert phone.locator(".elder-task-label").all_inner_texts() == ["办事", "查进度", "我的证件", "找人帮我办"]
    # every page stays in 长辈版, with the help line on top
    with phone.expect_navigation():
        phone.locator(".elder-task", has_text="查进度").click()
    assert "/portal/applications" in phone.url and is_elder(phone)
    expect(phone.locator(".help-line-bar a")).to_have_attribute("href", "tel:0574-12345")
    phone.go_back()
    with phone.expect_navigation():
        phone.locator(".elder-task", has_text="我的证件").click()
    assert "/portal/wallet" in phone.url and is_elder(phone)
    sign_out(phone)

    # Another phone, nothing remembered by its browser: the account keeps 长辈版.
    other = browser.new_context(base_url=live_server.base, viewport={"width": 390, "height": 844}, locale="zh-CN",
                                is_mobile=True, has_touch=True)
    try:
        page = other.new_page()
        page.goto("/login")
        assert not is_elder(page)
        page.locator("#username").press_sequentially("resident.zhao")
        page.locator("#password").press_sequentially(testing.DEMO_PASSWORD)
        with page.expect_navigation():
            page.locator("#password").press("Enter")
        assert is_elder(page) and page.locator(".elder-task").count() == 4
        with page.expect_navigation():  # and turned off there, it is off
            page.get_by_role("button", name="长辈版").click()
        assert not is_elder(page)
        expect(page.locator(".tiles")).to_be_visible()
    finally:
        other.close()


def _tab_to(page: Any, selector: str, *, limit: int = 80) -> None:
    """Press Tab until the element `selector` has the focus (as a keyboard user moves through a page)."""
    for _ in range(limit):
        if page.evaluate("s => { const e = document.querySelector(s); return !!e && e === document.activeElement; }",
                         selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.parametrize("resident_mode", ["elder"])
def test_the_birth_form_with_the_keyboard_alone_in_elder_mode(phone: Any) -> None:
    """Only keyboard.press and keyboard.type from the login page to the receipt (in 长辈版, whose
    home has the plain 办事 button)."""
    page, kb = phone, phone.keyboard
    page.goto("/login")
    _tab_to(page, "#username")
    kb.type("resident.li")
    kb.press("Tab")
    kb.type(testing.DEMO_PASSWORD)
    with page.expect_navigation():
        kb.press("Enter")
    assert "/portal" in page.url and is_elder(page)  # the visitor's 长辈版 is now the account's

    _tab_to(page, '.elder-task[href="/portal/apply"]')
    with page.expect_navigation():
        kb.press("Enter")
    _tab_to(page, 'a[href="/portal/apply/onething.birth"]')
    with page.expect_navigation():
        kb.press("Enter")
    _tab_to(page, 'form[action$="/consent"] button[type=submit]')  # 同意并预填
    with page.expect_navigation():
        kb.press("Enter")

    born = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date() - dt.timedelta(days=3)
    _tab_to(page, "#child_name")
    kb.type("张小乐")
    _tab_to(page, "#child_sex")
    for _ in range(3):  # a closed select steps through its options with the arrow keys
        if page.locator("#child_sex option:checked").inner_text() == "男":
            break
        kb.press("ArrowDown")
    assert page.locator("#child_sex option:checked").inner_text() == "男"
    _tab_to(page, "#child_birth_date")
    kb.type(born.strftime("%m%d%Y"))
    assert page.locator("#child_birth_date").input_value() == born.isoformat()
    for field, text in (("#child_birth_place", "宁波市妇女儿童医院"), ("#mailing_address", "解放南路128号5幢1单元302室")):
        _tab_to(page, field)
        if not page.locator(field).input_value():
            kb.type(text)
    _tab_to(page, 'form[method="post"].form button.button-primary')  # 一次提交
    with page.expect_navigation():
        kb.press("Enter")
    assert not page.locator("#error-summary").count(), page.locator("#error-summary").inner_text()
    assert receipt_number(page) > 0
