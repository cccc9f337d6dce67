"""出生一件事 in the browser, as people do it: 张明 on his phone from the portal home to the submitted
form (typing every value, uploading a material — a bad file first), the five departments' officers
at their desks deciding on the workbench (the health officer opening the material; the police's
受理 and 审批 by two officers, the first refused the second step), and the certificates in both
parents' wallets, checked by their QR link and by number."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.helpers import (
    decide,
    open_from_home,
    open_task,
    receipt_number,
    sign_in,
    switch_to,
    type_date,
    type_into,
)

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()


def test_the_birth_one_thing_from_the_portal_to_both_parents_wallets(phone: Any, desk: Any) -> None:
    sign_in(phone, "resident.zhang")
    open_from_home(phone, "我要办")
    phone.get_by_role("link", name="开始办理：出生一件事").click()
    with phone.expect_navigation():
        phone.get_by_role("button", name="同意并预填").click()
    assert phone.locator("#mother_name").input_value() == "李婷"  # prefilled from the registers

    # Fault 9: submitted with the newborn's fields empty, the summary names each field.
    with phone.expect_navigation():
        phone.get_by_role("button", name="一次提交").click()
    summary = phone.locator("#error-summary").inner_text()
    assert "新生儿姓名：此项为必填项" in summary and "出生日期：此项为必填项" in summary, summary

    # Fault 3: a date typed key by key arrives whole (the check runs when the field is left, and
    # never replaces the field while it is typed in); an implausible one is refused by name.
    long_ago = _today().replace(year=_today().year - 2)
    type_date(phone, "#child_birth_date", long_ago)
    assert phone.locator("#child_birth_date").input_value() == long_ago.isoformat()
    expect(phone.locator("#field-child_birth_date .field-error")).to_contain_text("日期过早")
    born = _today() - dt.timedelta(days=2)
    phone.locator("#child_birth_date").fill("")
    type_date(phone, "#child_birth_date", born)
    assert phone.locator("#child_birth_date").input_value() == born.isoformat()
    type_into(phone, "#child_name", "张小安")
    phone.locator("#child_sex").select_option(label="男")
    type_into(phone, "#child_birth_place", "宁波市妇女儿童医院")
    type_into(phone, "#mailing_address", "解放南路128号5幢1单元302室")
    expect(phone.locator("#field-child_birth_date .field-error")).to_have_count(0)
    # 材料: a file that is not what its name says is refused by name, and nothing typed is lost.
    register = phone.locator('input[name="material.mat.household-register"]')
    register.set_input_files({"name": "户口簿.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf at all"})
    with phone.expect_navigation():
        phone.get_by_role("button", name="一次提交").click()
    summary = phone.locator("#error-summary").inner_text()
    assert "父母户口簿" in summary, summary
    assert phone.locator("#child_name").input_value() == "张小安"
    assert phone.locator("#child_birth_date").input_value() == born.isoformat()
    phone.locator('input[name="material.mat.household-register"]').set_input_files(
        {"name": "户口簿.pdf", "mimeType": "application/pdf", "buffer": PDF})
    with phone.expect_navigation():
        phone.get_by_role("button", name="一次提交").click()
    # Fault 5: 提交成功, with the receipt number.
    app_id = receipt_number(phone)
    expect(phone.locator("#materials li")).to_have_count(1)
    assert "父母户口簿" in phone.locator("#materials").inner_text()

    # The departments decide on the workbench, in the order the one-thing routes them; the police's
    # 受理 and 审批 by two officers (审批分离).
    for officer, steps in (("officer.health", 1), ("officer.cdc", 1), ("officer.police", 1),
                           ("officer.police2", 1), ("officer.medinsure", 1), ("officer.hrss", 1)):
        switch_to(desk, officer)
        open_task(desk, app_id)
        if officer == "officer.health":
            # The officer opens the material the resident uploaded (each view is audited); a download
            # ends the navigation that started it, which the browser reports as aborted.
            desk.watch.allow(r"GET \S+/workbench/tasks/\d+/materials/\d+ \(net::ERR_ABORTED\)")
            with desk.expect_download() as got:
                desk.locator("#materials a").first.click()
            assert Path(got.value.path()).read_bytes() == PDF
        if officer == "officer.police2":
            # Fault 6: what earlier tasks handed on is shown by number, never by row id.
            handed = desk.locator("main").inner_text()
            assert "记录号" not in handed, handed
        for _ in range(steps):
            # Fault 9: each decision's radio sits beside its label, on one line.
            radio, label = desk.locator('input[name="decision"]').first, desk.locator("label.choice").first
            r, b = radio.bounding_box(), label.bounding_box()
            assert b["height"] < 60 and abs((r["y"] + r["height"] / 2) - (b["y"] + b["height"] / 2)) < 8, (r, b)
            decide(desk)
        if officer == "officer.police":
            # 审批分离: the officer who accepted is told, and refused, on the next step.
            expect(desk.locator("#separation-note")).to_be_visible()
            desk.get_by_label("通过", exact=True).check()
            with desk.expect_navigation():
                desk.get_by_role("button", name="提交办理意见").click()
            expect(desk.locator("#error-summary")).to_contain_text("审批分离")
    assert "已办结" in desk.locator(".lead").inner_text() or "通过" in desk.locator(".lead").inner_text()

    # Fault 5: the resident's timeline names each step and the officer who decided it.
    phone.goto(f"/portal/applications/{app_id}")
    timeline = phone.locator(".timeline").inner_text()
    assert "环节：受理" in timeline and "经办人：郑刚" in timeline and "经办人：林海" in timeline, timeline
    assert "经办人：周敏" in timeline, timeline

    # Fault 4: each certificate is a card with its number so labelled and its QR code.
    for parent in ("resident.zhang", "resident.li"):
        switch_to(phone, parent)
        open_from_home(phone, "您的数字证件")
        cards = phone.locator("li.cert").filter(has_text="张小安")
        expect(cards).to_have_count(4)  # waits for the wallet page the click opens
        card = cards.first
        assert "证照编号" in card.inner_text() and "门牌号" not in card.inner_text()
        qr = card.locator(".cert-qr img")
        qr.scroll_into_view_if_needed()
        phone.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    number = card.locator(".cert-number").inner_text()

    # The QR link opens the public check: 有效, unmistakably (green, not the red of 无效).
    with phone.expect_navigation():
        card.get_by_role("link", name="打开证照验证页").click()
    assert "/verify/" in phone.url
    result = phone.locator(".verify-result")
    assert "有效" in result.inner_text() and number in result.inner_text()
    valid_colour = result.evaluate("e => getComputedStyle(e).backgroundColor")
    # The number box: a certificate number typed in says whether it stands; a wrong one says so.
    type_into(phone, "#number", number)
    with phone.expect_navigation():
        phone.get_by_role("button", name="查验").click()
    assert phone.locator(".verify-result").get_attribute("data-state") == "valid"
    phone.locator("#number").fill("")
    type_into(phone, "#number", "NO-SUCH-0001")
    with phone.expect_navigation():
        phone.get_by_role("button", name="查验").click()
    assert "没有这个编号的证照" in phone.locator(".verify-result").inner_text()
    assert phone.locator(".verify-result").evaluate("e => getComputedStyle(e).backgroundColor") != valid_colour
