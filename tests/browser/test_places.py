"""Places in the browser: a resident on a phone finds the nearest clinics, and the offline map
draws its demo boundaries, places and service circle — with no request leaving the machine (the
`phone` and `desk` fixtures fail the test on any non-loopback request, console error or failed
request) and ECharts loaded only after the page was painted."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.elder_too
def test_a_resident_finds_the_nearest_clinics_on_a_phone(phone: Any) -> None:
    phone.goto("/places/near")
    assert "附近便民场所" in phone.locator("h1").inner_text()
    phone.locator("#near-category").select_option("clinic")
    phone.locator("#near-community").select_option("330203004002")  # 平桥社区
    phone.locator("#near-radius").select_option("1000")
    phone.locator("#near-form button[type=submit]").click()
    phone.locator("#near-results [data-place-id]").first.wait_for()
    items = phone.locator("#near-results .place")
    assert items.count() >= 2
    texts = [items.nth(i).inner_text() for i in range(items.count())]
    assert all("卫生服务站" in t for t in texts)
    distances = [int(t.split("距离 ")[1].split(" 米")[0]) for t in texts]
    assert distances == sorted(distances) and distances[-1] <= 1000
    assert "category=clinic" in phone.url  # htmx pushed the search into the address bar
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_offline_map_renders_after_first_paint(desk: Any) -> None:
    desk.goto("/places/map")
    assert desk.locator("#map-demo-note").is_visible()  # the demo's boundaries say they are invented
    desk.locator("#places-map[data-ready='1']").wait_for()
    shapes = desk.locator("#places-map svg path").count()
    assert shapes > 19  # the community cells, the district outlines and the places
    timing = desk.evaluate("""() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const paint = performance.getEntriesByType('paint').map(p => p.startTime);
        const ech = performance.getEntriesByType('resource').filter(r => r.name.includes('/vendor/echarts'));
        return {load: nav.loadEventStart, paint: paint.length ? Math.min(...paint) : null,
                echarts: ech.length ? ech[0].startTime : null};
    }""")
    assert timing["echarts"] is not None
    assert timing["echarts"] >= timing["load"]
    if timing["paint"] is not None:
        assert timing["echarts"] >= timing["paint"]
    desk.locator("#map-layer").select_option("library")  # another layer redraws without error
    desk.locator("#places-map svg path").first.wait_for()
