"""The one screen's figures: an indicator over a region with its children (the map), the trail
back up, the trend by month — the figures the table shows, summed over the dimensions, scoped to
the caller and suppressed where small."""

from __future__ import annotations

import datetime as dt

from tests.cockpit import fakes
from tests.cockpit.test_cockpit import _city, _principal
from tongban.cockpit import screen, store
from tongban.cockpit.models import CockpitState
from tongban.core import clock as core_clock


def test_the_screen_drills_from_a_district_to_a_community_and_sums_as_the_table_does(client, login, demo, clock, monkeypatch):  # type: ignore[no-untyped-def]
    fakes.use(monkeypatch, fakes.BIRTHS)
    _city(demo, 3_000)
    with demo.unit_of_work() as s:
        store.refresh(s)
    h = login("leader.haishu")
    frm = (core_clock.today() - dt.timedelta(days=364)).isoformat()
    top = client.get(f"/api/v1/cockpit/screen/test.births?from={frm}", headers=h)
    assert top.status_code == 200, top.text
    district = top.json()
    assert district["region"] == "330203" and district["child_level"] == "street"
    assert [t["code"] for t in district["trail"]] == ["330203"]
    streets = [a for a in district["children"] if not a["not_broken_down"]]
    assert streets and all(a["code"].startswith("330203") and len(a["code"]) == 9 for a in streets)
    # the district's figure is the table's, summed over sex
    table = client.get(f"/api/v1/cockpit/indicators/test.births?from={frm}", headers=h).json()
    if not any(r["suppressed"] for r in table["total"]) and not district["total"]["suppressed"]:
        assert district["total"]["value"] == sum(r["value"] for r in table["total"])
    shown = [a for a in district["children"] if not a["suppressed"]]
    if len(shown) == len(district["children"]) and not district["total"]["suppressed"]:
        assert district["total"]["value"] == sum(a["value"] for a in shown)
    # drill down to a street, then a community: the trail grows, and the community has no children
    street = next(a for a in streets if a["drillable"])
    down = client.get(f"/api/v1/cockpit/screen/test.births?region={street['code']}&from={frm}", headers=h).json()
    assert [t["code"] for t in down["trail"]] == ["330203", street["code"]] and down["child_level"] == "community"
    community = down["children"][0]["code"]
    leaf = client.get(f"/api/v1/cockpit/screen/test.births?region={community}&from={frm}", headers=h).json()
    assert leaf["child_level"] is None and leaf["children"] == [] and len(leaf["trail"]) == 3
    assert len(leaf["trend"]) == 12 and leaf["trend"][-1]["month"] == core_clock.today().strftime("%Y-%m")
    # outside the leader's district: refused; a bad region: 422 naming the field
    assert client.get("/api/v1/cockpit/screen/test.births?region=330205", headers=h).status_code == 403
    bad = client.get("/api/v1/cockpit/screen/test.births?region=33x", headers=h)
    assert bad.status_code == 422 and "region" in bad.text
    assert client.get("/api/v1/cockpit/screen/no.such", headers=h).status_code == 404
    # a resident may not look
    assert client.get("/api/v1/cockpit/screen/test.births", headers=login("resident.zhang")).status_code == 403


def test_the_first_refresh_leaves_a_rollup_the_screen_reads_with_the_cells_figures(demo, clock, monkeypatch):  # type: ignore[no-untyped-def]
    fakes.use(monkeypatch, fakes.BIRTHS, fakes.MARRIED)
    _city(demo, 1_500)
    leader = _principal(demo, "leader.haishu")
    with demo.unit_of_work() as s:
        store.refresh(s)
        frm = core_clock.today() - dt.timedelta(days=200)
        for key in ("test.births", "test.married"):
            assert s.get(CockpitState, key).rollup
            for region in (None, "330203001"):
                got = screen.screen(s, leader, key, region=region, day_from=frm)
                assert got == screen.reference(s, leader, key, region=region, day_from=frm)
                assert got.total.value is not None or got.total.suppressed
