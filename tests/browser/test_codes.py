"""Codes in the browser: an officer opens a code's scan page from the workbench and revokes
another; scanned on a phone, the page fits the screen and shows the colour and its reason."""

from __future__ import annotations

from typing import Any

from tests.browser.helpers import sign_in


def test_a_code_scanned_on_a_phone_shows_its_card_and_colour_and_a_revoked_one_red(desk: Any, phone: Any) -> None:
    sign_in(desk, "officer.hrss")
    desk.goto("/workbench/codes")
    links = desk.locator("a", has_text="打开扫码页面")
    assert links.count() >= 2
    first = links.nth(0).get_attribute("href")
    second = links.nth(1).get_attribute("href")
    assert first and first.startswith("/c/") and second and second.startswith("/c/")

    # revoke the second one from the workbench, with a reason
    section = desk.locator("section", has=desk.locator(f'a[href="{second}"]'))
    section.locator("input[name=reason]").fill("该人员已离职，不再提供家政服务")
    with desk.expect_navigation():
        section.locator("button", has_text="撤销").click()
    assert desk.locator(f'section:has(a[href="{second}"]) [data-status="revoked"]').count() == 1

    phone.goto(first)
    status = phone.locator(".code-status")
    assert status.get_attribute("data-state") == "valid"
    assert status.get_attribute("data-colour") in ("green", "yellow")
    body = phone.locator("body").inner_text()
    assert "签名有效" in body and "海曙区人力资源和社会保障局" in body
    assert phone.locator("dl.profile dt").count() >= 4  # the public card and the issuer
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone

    phone.goto(second)
    status = phone.locator(".code-status")
    assert (status.get_attribute("data-state"), status.get_attribute("data-colour")) == ("revoked", "red")
    assert "该人员已离职" in phone.locator("body").inner_text()

    tampered = first[:-6] + ("AAAAAA" if not first.endswith("AAAAAA") else "BBBBBB")
    phone.goto(tampered)
    assert phone.locator(".code-status").get_attribute("data-state") == "invalid"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
