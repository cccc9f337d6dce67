"""A wallet certificate used as a material, in the browser: 张明 applies for the 出生医学证明 alone
(a single item's form), the health officer approves it and the certificate lands in his wallet;
applying for the 出生户口登记 alone, the form offers that certificate in place of an upload, he picks
it, and the police officer sees it on the task page, valid."""

from __future__ import annotations

import datetime as dt
from typing import Any

from playwright.sync_api import expect

from tests.browser.helpers import decide, open_task, receipt_number, sign_in, switch_to, type_date, type_into

BORN = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date() - dt.timedelta(days=3)
CHILD = {"#child_name": "张小宁", "#child_birth_place": "宁波市第一医院", "#mother_name": "李婷",
         "#mother_id_number": "330203199408210421", "#father_name": "张明", "#father_id_number": "330203199203150314"}


def _fill_child(phone: Any) -> None:
    for selector, value in CHILD.items():
        type_into(phone, selector, value)
    phone.locator("#child_sex").select_option(label="女")
    type_date(phone, "#child_birth_date", BORN)


def test_a_wallet_certificate_stands_in_for_an_upload(phone: Any, desk: Any) -> None:
    sign_in(phone, "resident.zhang")
    phone.goto("/portal/items/item.birth-certificate/form")
    _fill_child(phone)
    with phone.expect_navigation():
        phone.get_by_role("button", name="一次提交").click()
    first = receipt_number(phone)

    sign_in(desk, "officer.health")
    open_task(desk, first)
    decide(desk)

    phone.goto("/portal/items/item.household-birth/form")
    offered = phone.locator('select[name="certificate.mat.birth-medical-certificate"]')
    # "Upload a file instead", then the wallet's certificates of that type, newest first: the one just
    # issued to him (a ward's from another test would carry the child's name).
    expect(offered.locator("option").nth(1)).to_contain_text("出生医学证明")
    label = offered.locator("option").nth(1).inner_text()
    assert "张小安" not in label, label
    offered.select_option(label=label)
    _fill_child(phone)
    type_into(phone, "#household_number", "H330203000101")
    type_into(phone, "#applicant_phone", "13800000101")
    with phone.expect_navigation():
        phone.get_by_role("button", name="一次提交").click()
    second = receipt_number(phone)
    expect(phone.locator("#materials li")).to_have_count(1)
    assert "证照夹电子证照：出生医学证明" in phone.locator("#materials").inner_text()

    switch_to(desk, "officer.police")
    open_task(desk, second)
    materials = desk.locator("#materials").inner_text()
    assert "出生医学证明" in materials and "有效" in materials, materials
