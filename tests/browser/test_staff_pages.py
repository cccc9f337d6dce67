"""The leader's and the data steward's pages in the browser: every tile a person is shown opens;
the catalog, data quality and open-data pages name departments and frequencies in words; open-data
CSVs open in Excel on Chinese Windows; the icon is there."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.helpers import sign_in, switch_to


def _tiles_open(page: Any) -> list[str]:
    """Open each linked tile of the current home page; return their titles (a 403 fails)."""
    home = page.url
    hrefs = page.locator("a.tile").evaluate_all("els => els.map(e => [e.getAttribute('href'), e.innerText])")
    for href, text in hrefs:
        response = page.goto(href)
        assert response.status == 200, f"the tile {text!r} ({href}) answered {response.status}"
        page.goto(home)
    return [t for _, t in hrefs]


def test_the_leaders_pages_show_only_what_opens(desk: Any) -> None:
    sign_in(desk, "leader.haishu")
    assert "/cockpit" in desk.url and "驾驶舱" in desk.locator("h1").inner_text()
    desk.goto("/workbench")
    # Fault 8: a leader holds no task, person or quality permission: those tiles are not shown.
    shown = _tiles_open(desk)
    assert not any(re.search("待办事项|查找人员|数据质量|主动筛查", t) for t in shown), shown
    assert any("数据共享" in t for t in shown), shown


def test_the_data_stewards_pages_and_open_data(desk: Any) -> None:
    sign_in(desk, "steward.bigdata")
    shown = _tiles_open(desk)
    assert any("数据共享" in t for t in shown) and any("数据质量" in t for t in shown), shown
    with desk.expect_navigation():
        desk.get_by_role("link", name=re.compile("数据共享")).click()
    catalog = desk.locator("main").inner_text()
    # Fault 6: owners by name, frequencies in words (raw ids and English fail the page checks too).
    assert "dept.haishu" not in catalog and re.search("每日|每月|实时|每周|每年", catalog)
    desk.goto("/workbench")
    with desk.expect_navigation():
        desk.get_by_role("link", name=re.compile("数据质量")).click()

    switch_to(desk, "resident.zhao")
    desk.goto("/open")
    open_page = desk.locator("main").inner_text()
    assert "dept." not in open_page and "monthly" not in open_page and "daily" not in open_page
    # Fault 9: a CSV starts with the byte-order mark, so Excel on Chinese Windows reads UTF-8.
    href = desk.locator('a[href$=".csv"]').first.get_attribute("href")
    csv = desk.request.get(href)
    assert csv.status == 200 and csv.body().startswith(b"\xef\xbb\xbf"), csv.body()[:20]
    # Fault 9: the icon a browser asks for is there (a 404 fails the page checks on every page).
    assert desk.request.get("/favicon.ico").status == 200
    icon = desk.locator('link[rel="icon"]').get_attribute("href")
    assert desk.request.get(icon).status == 200
