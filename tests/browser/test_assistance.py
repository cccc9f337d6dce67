"""困难群众救助一件事 in the browser: 陈秀英 on her phone chooses 低保 and applies, the street officer
returns it for a supplement (补正) and she answers it, the street accepts and reviews, the district
approves, and the application stands under 公示 with its end date."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.helpers import (
    decide,
    open_from_home,
    open_task,
    receipt_number,
    sign_in,
    switch_to,
    type_into,
)


def test_social_assistance_with_a_supplement_round_trip_street_and_district_steps_and_public_notice(
        phone: Any, desk: Any) -> None:
    sign_in(phone, "resident.chen")
    open_from_home(phone, "我要办")
    phone.get_by_role("link", name="开始办理：困难群众救助一件事").click()
    with phone.expect_navigation():
        phone.get_by_role("button", name="同意并预填").click()

    # Fault 2: the choice of items reads as a list of choices (no repr), each box beside its label
    # on a line of its own, and the button to show the form is a full button.
    choice = phone.locator("form.item-choice")
    assert "built-in" not in choice.inner_text()
    labels = choice.locator("label.choice")
    tops = []
    for i in range(labels.count()):
        box = labels.nth(i).bounding_box()
        box_in = labels.nth(i).locator("input").bounding_box()
        assert box_in["x"] < box["x"] + 40 and abs(box_in["y"] + box_in["height"] / 2 - (box["y"] + box["height"] / 2)) < 12
        tops.append(round(box["y"]))
    assert len(set(tops)) == len(tops), "two choices share a line"
    show = phone.get_by_role("button", name="按所选事项显示表单")
    assert show.bounding_box()["width"] > 150 and show.bounding_box()["height"] >= 44

    # 低保 only: the others unticked, the form shown for it.
    def box(title: str) -> Any:
        return choice.locator("label.choice", has_text=title).locator("input")

    box("最低生活保障审核确认").check()
    for other in ("临时救助", "低保家庭水电气费用减免", "医疗救助对象认定"):
        box(other).uncheck()
    with phone.expect_navigation():
        show.click()
    assert phone.locator("#applicant_name").input_value() == "陈秀英"
    type_into(phone, "#household_size", "2")
    type_into(phone, "#household_monthly_income_yuan", "843")
    type_into(phone, "#hardship_reason", "单亲抚养女儿，仅有少量转移性收入")
    with phone.expect_navigation():
        phone.get_by_role("button", name="一次提交").click()
    app_id = receipt_number(phone)

    # The street returns it for a supplement; she answers on her phone.
    sign_in(desk, "officer.mca.ximen")
    open_task(desk, app_id)
    decide(desk, "退回补正", reason="请核实家庭月总收入，含女儿的收入")
    phone.goto(f"/portal/applications/{app_id}")
    step = phone.locator(".timeline .step-returned")
    assert "请核实家庭月总收入" in step.inner_text()
    income = step.locator('input[name="household_monthly_income_yuan"]')
    income.fill("")
    type_into(phone, f"#{income.get_attribute('id')}", "900")
    with phone.expect_navigation():
        phone.get_by_role("button", name="提交补正").click()
    assert "退回补正" in phone.locator(".timeline").inner_text()  # the history keeps it

    # The street accepts and reviews; the district approves with the amount.
    open_task(desk, app_id)
    decide(desk)  # 受理
    decide(desk)  # 审核（入户调查）
    switch_to(desk, "officer.mca")
    open_task(desk, app_id)
    decide(desk, monthly_allowance_yuan="600")
    # Fault 6: the status reads 公示中, never `public_notice`, and says when the notice ends.
    assert "公示中" in desk.locator(".lead").inner_text()

    phone.goto(f"/portal/applications/{app_id}")
    step = phone.locator(".timeline li.step").first
    expect(step).to_contain_text("公示中")
    expect(step).to_contain_text(re.compile(r"公示期至 \d{4}-\d{2}-\d{2}"))
    assert "环节：审批（确认）" in step.inner_text() and "经办人：褚芳" in step.inner_text()
