"""The whole catalogue in the browser (#22 part 1): a visitor searches from the login page, reads
an item's guide (办事指南), presses 开始办理, logs in, allows the prefill and submits the single item;
a visitor browses by domain and by life event on a phone; and every catalogued item's guide opens
and its 开始办理 reaches the item's form (one test walking them all, kept fast)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.helpers import (
    fill_item_form,
    search_from_header,
    start_from_guide,
    submit_item_form,
)
from tongban import testing


def test_a_visitor_searches_reads_the_guide_logs_in_and_applies_for_one_item(phone: Any) -> None:
    phone.goto("/login")
    search_from_header(phone, "失业")
    results = phone.locator("main ul.found li")
    expect(results.first).to_be_visible()
    assert "失业登记" in phone.locator("main").inner_text()
    with phone.expect_navigation():
        phone.get_by_role("link", name="失业登记", exact=True).click()

    # the guide: who may apply, the fee, the time limits, where to go, online or not
    assert phone.locator("h1").inner_text() == "失业登记"
    guide = phone.locator("main").inner_text()
    for expected in ("申请对象", "处于无业状态", "收费标准", "不收费", "即来即办", "办理地点", "海曙区行政服务中心",
                     "《中华人民共和国就业促进法》", "网上申请，仍需到现场 1 次"):
        assert expected in guide, expected
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    start_from_guide(phone)
    assert "/login" in phone.url  # a visitor logs in first, then comes back
    phone.locator("#username").press_sequentially("resident.zhao")
    phone.locator("#password").press_sequentially(testing.DEMO_PASSWORD)
    with phone.expect_navigation():
        phone.locator("#password").press("Enter")
    assert phone.url.endswith("/portal/items/item.unemployment-registration"), phone.url
    assert "失业登记" in phone.locator("h1").inner_text()
    with phone.expect_navigation():
        phone.get_by_role("button", name="同意并预填").click()

    # the merged form of one item, prefilled from his record with the consent just given
    assert phone.locator("#applicant_name").input_value() == "赵志强"
    fill_item_form(phone, {"last_employer": "宁波某贸易公司"})
    number = submit_item_form(phone)
    assert number > 0
    # his progress page names the item's department
    assert "人力资源和社会保障局" in phone.locator("main").inner_text()


def test_a_visitor_browses_by_domain_and_life_event_on_a_phone(phone: Any) -> None:
    phone.goto("/login")
    with phone.expect_navigation():
        phone.get_by_role("link", name="服务目录", exact=True).click()
    assert phone.locator("h1").inner_text() == "服务目录"
    domains = phone.locator("nav[aria-labelledby=domains-heading] a")
    expect(domains).to_have_count(12)
    with phone.expect_navigation():
        phone.get_by_role("link", name=re.compile("^养老")).click()
    assert phone.locator("h1").inner_text() == "养老"
    expect(phone.get_by_role("link", name="高龄津贴申领")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    with phone.expect_navigation():
        phone.get_by_role("link", name=re.compile("^生育出生")).click()
    assert phone.locator("h1").inner_text() == "生育出生"
    with phone.expect_navigation():
        phone.get_by_role("link", name=re.compile("出生一件事")).first.click()
    # a one-thing's guide: its items, each with its own guide, and what applying once saves
    expect(phone.get_by_role("link", name="出生医学证明首次签发")).to_be_visible()
    expect(phone.locator("table.savings")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_every_catalogued_item_opens_its_guide_and_starts_its_form(phone: Any) -> None:
    resp = phone.request.get("/api/v1/catalog/domains")
    assert resp.ok
    items = [(i["id"], i["title_i18n"]["zh"]) for d in resp.json()["items"] for i in d["items"]]
    assert len(items) >= 29
    phone.goto("/login")
    phone.locator("#username").press_sequentially("resident.zhao")
    phone.locator("#password").press_sequentially(testing.DEMO_PASSWORD)
    with phone.expect_navigation():
        phone.locator("#password").press("Enter")
    for item_id, title in items:
        phone.goto(f"/guide/{item_id}")
        assert phone.locator("h1").inner_text() == title, item_id
        start_from_guide(phone)
        assert phone.url.endswith(f"/portal/items/{item_id}"), (item_id, phone.url)
        go = phone.get_by_role("link", name=re.compile("^(不用，我自己填写|填写表单)$"))
        with phone.expect_navigation():
            go.click()
        assert phone.locator("h1").inner_text() == title, item_id
        expect(phone.get_by_role("button", name="一次提交")).to_be_visible()
    assert not phone.watch.problems
