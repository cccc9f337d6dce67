"""Every table of the cockpit names what it shows: a leader opens the cockpit and each indicator's
table from its link, and no page shows a raw code (an item id, a case type, `M`/`F`, a status, a
dataset or policy id) — the `page.watch` word checks fail any page that does."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.helpers import sign_in


def test_a_leader_opens_every_indicator_table_and_sees_no_raw_code(desk: Any) -> None:
    sign_in(desk, "leader.haishu")
    assert "/cockpit" in desk.url
    links = desk.locator("#indicators a")
    expect(links.first).to_be_visible()
    names = links.all_inner_texts()
    assert len(names) >= 20  # every slice's indicators are listed
    for name in names:
        desk.goto("/cockpit")
        with desk.expect_navigation():
            desk.locator("#indicators").get_by_role("link", name=name, exact=True).click()
        assert "/cockpit/indicators/" in desk.url
        expect(desk.locator("#figures thead")).to_contain_text(name)
        if desk.url.endswith("/registry.pyramid"):
            # sex and age band in words: 男/女 and a span of years, never M/F or 00-04
            rows = desk.locator("#figures tbody tr")
            expect(rows.filter(has_text="男").first).to_be_visible()
            expect(rows.filter(has_text="女").first).to_be_visible()
            expect(rows.filter(has_text="岁").first).to_be_visible()
            expect(rows.filter(has_text="00-04")).to_have_count(0)
