"""The one screen's map shapes: a region's children one level down as GeoJSON — districts from the
pack's outlines, a street as its communities' Voronoi cells, a community as its cell — marked as
demo shapes, scoped as the screen is."""

from __future__ import annotations

from typing import Any

from tongban.cockpit import store


def _codes(fc: dict[str, Any]) -> list[str]:
    return [f["properties"]["code"] for f in fc["features"]]


def test_the_map_drills_from_the_city_to_a_community(client, login, demo):  # type: ignore[no-untyped-def]
    h = login("leader.ningbo")
    city = client.get("/api/v1/cockpit/map/330200", headers=h)
    assert city.status_code == 200, city.text
    fc = city.json()
    assert fc["type"] == "FeatureCollection" and fc["region"] == "330200" and fc["level"] == "county"
    # only the districts the pack gives an outline: 海曙区 and 江北区, each a closed ring
    assert _codes(fc) == ["330203", "330205"] and fc["demo"] is True
    haishu = fc["features"][0]
    assert haishu["properties"] == {"code": "330203", "name": "海曙区", "level": "county", "demo": True}
    ring = haishu["geometry"]["coordinates"][0]
    assert haishu["geometry"]["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) >= 4
    # a district: its streets with communities, each the union of its communities' cells
    streets = client.get("/api/v1/cockpit/map/330203", headers=h).json()
    assert streets["level"] == "street"
    assert set(_codes(streets)) >= {"330203001", "330203003", "330203004"}
    assert all(len(c) == 9 and c.startswith("330203") for c in _codes(streets))
    nanmen = next(f for f in streets["features"] if f["properties"]["code"] == "330203001")
    assert nanmen["geometry"]["type"] == "MultiPolygon" and len(nanmen["geometry"]["coordinates"]) == 3
    # a street: its communities' cells; a community: nothing below it
    communities = client.get("/api/v1/cockpit/map/330203001", headers=h).json()
    assert communities["level"] == "community"
    assert _codes(communities) == ["330203001001", "330203001002", "330203001003"]
    assert all(f["geometry"]["type"] == "Polygon" for f in communities["features"])
    leaf = client.get("/api/v1/cockpit/map/330203001001", headers=h).json()
    assert leaf["level"] is None and leaf["features"] == [] and leaf["demo"] is False
    # a street without communities of its own draws nothing; a province's cities have no outlines
    assert client.get("/api/v1/cockpit/map/330203002", headers=h).json()["features"] == []


def test_the_map_is_scoped_and_refuses_bad_regions(client, login, demo):  # type: ignore[no-untyped-def]
    h = login("leader.haishu")
    assert client.get("/api/v1/cockpit/map/330203", headers=h).status_code == 200
    # above or beside the leader's district: refused
    assert client.get("/api/v1/cockpit/map/330200", headers=h).status_code == 403
    assert client.get("/api/v1/cockpit/map/330205", headers=h).status_code == 403
    # a malformed code, an unknown one: 422 naming the field
    for bad in ("33x", "3302031", "999999"):
        r = client.get(f"/api/v1/cockpit/map/{bad}", headers=h)
        assert r.status_code == 422 and "region" in r.text, (bad, r.text)
    # a resident, an officer without cockpit permissions, nobody: refused
    assert client.get("/api/v1/cockpit/map/330203", headers=login("resident.zhang")).status_code == 403
    assert client.get("/api/v1/cockpit/map/330203", headers=login("officer.health")).status_code == 403
    assert client.get("/api/v1/cockpit/map/330203").status_code == 401
    # a head of department sees their region's map, not the city's
    head = login("head.nanmen")
    assert client.get("/api/v1/cockpit/map/330203001", headers=head).status_code == 200
    assert client.get("/api/v1/cockpit/map/330200", headers=head).status_code == 403


def test_the_one_screen_page_works_without_script_and_keeps_its_state_in_the_url(client, login, demo):  # type: ignore[no-untyped-def]
    from tests.factories import web_login
    from tests.services.conftest import DEMO_PASSWORD
    from tongban.cockpit.pages import PREFERRED

    with demo.unit_of_work() as s:
        store.refresh(s)
    h = login("leader.ningbo")
    keys = list(dict.fromkeys([*PREFERRED, *(i["key"] for i in
                                            client.get("/api/v1/cockpit/indicators", headers=h).json())]))
    screens = {k: client.get(f"/api/v1/cockpit/screen/{k}", headers=h) for k in keys}
    figured = [k for k, sc in screens.items() if sc.status_code == 200
               and any(a["value"] is not None for a in (sc.json()["total"], *sc.json()["children"]))]
    web_login(client, "leader.ningbo", DEMO_PASSWORD)
    home = client.get("/cockpit")
    assert home.status_code == 200, home.text
    text = home.text
    # the default indicator over the leader's city: the first preferred one with figures there (not
    # a grey map of an indicator with none), its districts as a table whose links drill down
    assert figured and figured[0] != "services.on_time", figured  # too few decided tasks to show
    assert 'id="screen-children"' in text and f'value="{figured[0]}" selected' in text
    assert 'data-map="/api/v1/cockpit/map/330200"' in text and 'id="screen-demo-note"' in text
    assert "/vendor/echarts-screen" in text  # the map, bars and line build, not the chart pages'
    staff = client.get("/cockpit?indicator=cockpit.staff").text
    assert "/cockpit?indicator=cockpit.staff&amp;region=330203" in staff  # a district with figures drills
    assert "宁波市（未细分到下级）" in staff  # the city's own departments, not drillable
    # a street, with the period carried along; the trail links back up to the city
    street = client.get("/cockpit?indicator=cockpit.staff&region=330203001&from=2026-01-01&to=2026-01-31")
    assert street.status_code == 200
    assert "/cockpit?indicator=cockpit.staff&amp;region=330200&amp;from=2026-01-01&amp;to=2026-01-31" in street.text
    assert 'aria-current="page">南门街道' in street.text and "data-map=\"/api/v1/cockpit/map/330203001\"" in street.text
    # a street without shapes says so and shows the bars only
    bare = client.get("/cockpit?indicator=cockpit.staff&region=330203002")
    assert 'id="screen-no-shapes"' in bare.text and 'id="screen-map"' not in bare.text
    # a province has no city outlines: the leader of a city may not look above it anyway
    assert client.get("/cockpit?region=330000").status_code == 403
    assert client.get("/cockpit?region=33x").status_code == 422
    assert client.get("/cockpit?region=999999").status_code == 422
    assert client.get("/cockpit?indicator=no.such").status_code == 404
    assert client.get("/cockpit?from=2026-02-30").status_code == 422


def test_with_no_figures_anywhere_the_screen_opens_on_the_first_preferred_indicator(client, demo):  # type: ignore[no-untyped-def]
    from tests.factories import web_login
    from tests.services.conftest import DEMO_PASSWORD
    from tongban.cockpit.models import CockpitCell, CockpitRollup

    with demo.unit_of_work() as s:  # an empty store: every indicator's map is grey
        s.query(CockpitRollup).delete()
        s.query(CockpitCell).delete()
    web_login(client, "leader.ningbo", DEMO_PASSWORD)
    text = client.get("/cockpit").text
    assert 'value="services.on_time" selected' in text and 'id="screen-children"' in text
