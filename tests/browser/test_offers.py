"""应享尽享 in the browser: 民政局's officer runs the screening on the workbench; 王建国 finds the
offer on his portal's card, reads why, ticks the consent box himself and applies in one step on a
form he can read, to a submitted application with its receipt."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.helpers import receipt_number, sign_in, switch_to, type_into


def test_an_offer_from_the_portal_card_to_a_submitted_application(phone: Any, desk: Any) -> None:
    sign_in(desk, "officer.mca")
    with desk.expect_navigation():
        desk.get_by_role("link", name=re.compile("主动筛查")).click()
    # Fault 6: the engines by name (not polars/duckdb) — the page checks catch any English left.
    assert desk.locator("#backend option").first.inner_text() == "标准引擎"
    with desk.expect_navigation():
        desk.get_by_role("button", name="立即筛查").click()
    # Fault 8: the visit list is the grid worker's; an officer is not shown a link that answers 403.
    assert desk.get_by_role("link", name=re.compile("上门服务")).count() == 0
    # Fault 6: 退出复核 opens a page, not raw JSON (a JSON document fails the page checks).
    with desk.expect_navigation():
        desk.get_by_role("link", name=re.compile("退出复核")).click()
    assert desk.locator("h1").inner_text().startswith("新增符合与不再符合")

    sign_in(phone, "resident.wang")
    card = phone.locator("#entitled-heading").locator("xpath=..")
    card.wait_for()
    # Fault 6: the 低保边缘 offer explains itself in words, not in the policy's formula.
    with phone.expect_navigation():
        card.get_by_role("link", name="低保边缘家庭").click()
    why = phone.locator("main .criteria").inner_text()
    assert "低保边缘收入上限" in why and "param." not in why, why
    phone.go_back()
    card.wait_for()
    with phone.expect_navigation():
        card.get_by_role("link", name="困难残疾人生活补贴").click()
    offer_url = phone.url

    # Fault 7: consent is his act: the box starts empty. Fault 9: the buttons are finger-sized.
    consent = phone.get_by_label(re.compile("用我的登记信息自动填写"))
    assert not consent.is_checked()
    for name in ("申请", "不用了，谢谢"):
        assert phone.get_by_role("button", name=name).bounding_box()["height"] >= 44
    consent.check()
    with phone.expect_navigation():
        phone.get_by_role("button", name="申请", exact=True).click()
    # Fault 7: opening the form again does not give another consent.
    phone.goto(offer_url)
    phone.get_by_label(re.compile("用我的登记信息自动填写")).check()
    with phone.expect_navigation():
        phone.get_by_role("button", name="申请", exact=True).click()

    # Fault 1: the form is labelled in words and checked field by field; a refusal names the field.
    form = phone.locator("main form.form").last
    labels = form.locator("label").all_inner_texts()
    assert labels and not any(re.search(r"[a-z]+_[a-z]+", t) for t in labels), labels
    assert phone.locator("#applicant_name").input_value() == "王建国"  # prefilled with his consent
    with phone.expect_navigation():
        phone.get_by_role("button", name="一次提交").click()
    summary = phone.locator("#error-summary").inner_text()
    assert re.search(r"\S+：此项为必填项", summary) and "请求内容无效" not in summary, summary
    for field in form.locator("input:not([type=hidden]):not([type=file])").all():  # materials are optional
        if not field.input_value() and field.get_attribute("id"):
            kind = field.get_attribute("type")
            type_into(phone, f"#{field.get_attribute('id')}", "1" if field.get_attribute("inputmode") else (
                "13800000104" if kind == "tel" else "肢体残疾，无固定收入"))
    for select in form.locator("select:not([name^=certificate])").all():
        if not select.input_value():
            select.select_option(index=1)
    with phone.expect_navigation():
        phone.get_by_role("button", name="一次提交").click()
    app_id = receipt_number(phone)

    # The offer is taken up; the data page says who read what, by name, and holds one consent.
    phone.goto(offer_url)
    assert "已申请" in phone.locator("main").inner_text()
    phone.get_by_role("link", name="查看办件").click()
    assert f"/portal/applications/{app_id}" in phone.url
    switch_to(phone, "resident.wang")
    phone.get_by_role("link", name=re.compile("我的数据")).click()
    consents = phone.locator("#consents-heading").locator("xpath=..").locator("li", has_text="困难残疾人生活补贴")
    expect(consents).to_have_count(1)  # waits for the page the click opens
    for row in phone.locator("table tbody tr").all():
        assert row.locator("td").nth(1).inner_text().strip(), row.inner_text()
