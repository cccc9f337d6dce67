"""The browser set-up itself: a resident on a phone and an officer at a desk sign in by typing,
and each lands on their own home page, in Chinese."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.helpers import is_elder, sign_in


@pytest.mark.elder_too
def test_a_resident_signs_in_on_a_phone_and_sees_the_portal_in_chinese(phone: Any) -> None:
    sign_in(phone, "resident.zhang")
    assert "/portal" in phone.url
    body = phone.locator("body").inner_text()
    if is_elder(phone):  # the simpler home: a few big buttons, the help line at the top
        assert "办事" in body and "查进度" in body and "0574-12345" in body
    else:
        assert "一件事" in body
    # The page fits the phone: nothing wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_an_officer_signs_in_at_a_desk_and_sees_the_workbench(desk: Any) -> None:
    sign_in(desk, "officer.health")
    assert "/workbench" in desk.url
    assert "工作台" in desk.locator("body").inner_text()


def test_a_request_to_another_host_never_leaves_the_machine_and_is_reported(phone: Any) -> None:
    from playwright.sync_api import Error

    with pytest.raises(Error):
        phone.goto("http://example.org/")
    assert any("left the machine: http://example.org/" in p for p in phone.watch.problems)
    phone.watch.allow("example.org")
