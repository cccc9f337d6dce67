"""The cockpit's one screen in the browser: a city leader opens it on the districts' map, drills by
clicking the map and the ranked bars from the city to a district, a street and a community, and
climbs back up the trail — the figures shown are the API's; an early warning's line takes a head
of department to the queue listing the task that raised it. The `desk` fixture fails a test on any
console error, failed request or serious accessibility violation."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.browser.helpers import sign_in, switch_to
from tongban import testing

KEY = "cockpit.staff"  # staff accounts by department: figures down to the communities in the demo


def _region(page: Any) -> str:
    return parse_qs(urlsplit(page.url).query).get("region", [""])[0]


def _drawn(page: Any) -> None:
    """The trend, and the map and the bars where the region has children, are drawn as SVG."""
    page.locator("#screen-trend[data-ready='1'] svg path").first.wait_for(state="attached")
    for chart in ("#screen-bars", "#screen-map"):
        if page.locator(chart).count():
            page.locator(f"{chart}[data-ready='1'] svg path").first.wait_for(state="attached")


def _click_on_map(page: Any, lon: float, lat: float) -> None:
    """A real mouse click on the map at a place (ECharts tells where it is drawn)."""
    page.locator("#screen-map").scroll_into_view_if_needed()
    x, y = page.evaluate("""([lon, lat]) => {
        const chart = window.echarts.getInstanceByDom(document.getElementById('screen-map'));
        return chart.convertToPixel({seriesIndex: 0}, [lon, lat]);
    }""", [lon, lat])
    box = page.locator("#screen-map").bounding_box()
    with page.expect_navigation():
        page.mouse.click(box["x"] + x, box["y"] + y)
    _drawn(page)


def _figures_match_the_api(page: Any) -> None:
    api = page.request.get(f"/api/v1/cockpit/screen/{KEY}?region={_region(page)}").json()
    hidden = page.locator("#screen").get_attribute("data-label-hidden")
    want = sorted((a["name"], hidden if a["suppressed"] else a["shown"]) for a in api["children"])
    rows = page.locator("#screen-children tbody tr")
    got = sorted(tuple(rows.nth(i).locator("td").all_inner_texts()) for i in range(rows.count()))
    assert got == want
    total = api["total"]
    expect(page.locator("#screen-total")).to_have_text(hidden if total["suppressed"] else total["shown"])


def test_a_city_leader_drills_from_the_districts_map_to_a_community_and_back(desk: Any) -> None:
    sign_in(desk, "leader.ningbo")
    assert "/cockpit" in desk.url
    _drawn(desk)  # the default indicator over the city, on the districts' map
    expect(desk.locator("#screen-demo-note")).to_contain_text("示意边界")
    # another indicator: chosen from the list, shown at once (the URL keeps it)
    with desk.expect_navigation():
        desk.locator("#screen-indicator").select_option(KEY)
    assert f"indicator={KEY}" in desk.url and _region(desk) == "330200"
    _drawn(desk)
    _figures_match_the_api(desk)
    # the city → 海曙区: a click on the district on the map
    _click_on_map(desk, 121.45, 29.85)
    assert _region(desk) == "330203"
    expect(desk.locator("#screen-trail li")).to_have_text(["宁波市", "海曙区"])
    _figures_match_the_api(desk)
    # 海曙区 → 南门街道: a click on its ranked bar's name (a small count has no bar to click)
    with desk.expect_navigation():
        desk.locator("#screen-bars svg text", has_text="南门街道").first.click()
    assert _region(desk) == "330203001"
    _drawn(desk)
    _figures_match_the_api(desk)
    # 南门街道 → 紫金巷社区: a click on its cell, at the community's centre
    _click_on_map(desk, 121.5475, 29.86425)
    assert _region(desk) == "330203001001"
    expect(desk.locator("#screen-trail li")).to_have_text(["宁波市", "海曙区", "南门街道", "紫金巷社区"])
    expect(desk.locator("#screen-trend[data-ready='1'] svg path").first).to_be_attached()
    # Back goes one level up; the trail goes straight back to the districts
    with desk.expect_navigation():
        desk.go_back()
    assert _region(desk) == "330203001"
    with desk.expect_navigation():
        desk.locator("#screen-trail").get_by_role("link", name="宁波市").click()
    assert _region(desk) == "330200" and f"indicator={KEY}" in desk.url
    _drawn(desk)
    _figures_match_the_api(desk)
    # a leader's screen, not a phone's — but it does not break at 390 px
    desk.set_viewport_size({"width": 390, "height": 844})
    # (the charts redraw at the new width on the window's resize event: give them up to five
    # seconds; polled from here, as the page's CSP forbids the string evaluation wait_for_function uses)
    width = desk.evaluate("document.documentElement.scrollWidth")
    for _ in range(50):
        if width <= 390:
            break
        desk.wait_for_timeout(100)
        width = desk.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width


def _late_tasks(live: testing.LiveServer) -> int:
    """Twelve tasks of 南门街道办事处 decided yesterday, six after their due date, and one still open
    three days past it; then the cockpit refreshes (as its job does) and warn.late-tasks fires."""
    from tongban.core import clock
    from tongban.core.db import Database
    from tongban.services.models import Application, Task

    today, now = clock.today(), clock.now()
    db = Database(live.url)
    try:
        with db.unit_of_work() as s:
            def application(n: str, status: str) -> Application:
                app = Application(item_id="item.temporary-relief", status=status, data={}, region_code="330203001001",
                                  idempotency_key=f"screen-test-{n}", request_hash="0" * 64, filing="counter",
                                  submitted_at=now - dt.timedelta(days=20))
                s.add(app)
                s.flush()
                return app
            for i in range(12):
                app = application(str(i), "completed")
                s.add(Task(application_id=app.id, item_id="item.temporary-relief", department_id="dept.nanmen.office",
                           status="approved", requires=[], clock_started_on=today - dt.timedelta(days=15),
                           due_date=today - dt.timedelta(days=5 if i < 6 else -5),
                           decided_at=now - dt.timedelta(days=1)))
            app = application("open", "in_progress")
            task = Task(application_id=app.id, item_id="item.temporary-relief", department_id="dept.nanmen.office",
                        status="ready", requires=[], clock_started_on=today - dt.timedelta(days=20),
                        due_date=today - dt.timedelta(days=3))
            s.add(task)
            s.flush()
            open_app = app.id
    finally:
        db.dispose()
    subprocess.run([sys.executable, "-m", "tongban", "cockpit", "refresh"], env=live.env, check=True,  # noqa: S603
                   capture_output=True, timeout=300)
    return open_app


def test_an_early_warning_line_opens_the_task_where_the_department_acts(desk: Any, live_server: Any) -> None:
    application = _late_tasks(live_server)
    switch_to(desk, "head.nanmen")
    desk.goto("/cockpit")
    line = desk.locator("#warnings li.warning", has_text="办件超期办结")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("南门街道办事处")
    with desk.expect_navigation():
        line.locator("a.warning-open").click()
    assert urlsplit(desk.url).path == "/workbench/tasks" and "tab=overdue" in desk.url
    row = desk.locator(f"tr[data-application='{application}']")
    expect(row).to_be_visible()
    expect(row).to_contain_text("超期")
