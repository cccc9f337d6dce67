"""The 15-minute service circle: equal to a brute-force count on a small city; households stand
inside their communities' cells; the figure withholds small counts; the map's layers."""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
from sqlalchemy import select, update

from tongban.core import geo
from tongban.core.slices import read
from tongban.datahub.models import Dataset
from tongban.places.coverage import map_layers, service_circle
from tongban.places.models import Place, PlaceCategory
from tongban.registry import reads
from tongban.registry.models import Address, Household


def test_generated_addresses_lie_in_their_communitys_cell(city) -> None:  # type: ignore[no-untyped-def]
    with city.unit_of_work() as s:
        shapes = reads.shapes(s)
        rows = s.execute(select(Address.region_code, Address.longitude, Address.latitude)).all()
    assert rows and all(lon is not None for _c, lon, _lat in rows)
    for district, codes in shapes.districts().items():
        centres = np.array([shapes.centres[c] for c in codes])
        mine = [(c, lon, lat) for c, lon, lat in rows if c[:6] == district]
        lon = np.array([r[1] for r in mine])
        lat = np.array([r[2] for r in mine])
        want = np.array([codes.index(r[0]) for r in mine])
        assert (geo.nearest_centre(lon, lat, centres) == want).mean() > 0.99  # a tiny cell may keep its centre
        assert geo.in_polygon(lon, lat, shapes.outlines[district]).all()


def test_coverage_equals_a_brute_force_count(city) -> None:  # type: ignore[no-untyped-def]
    with city.unit_of_work() as s:
        s.execute(update(Dataset).where(Dataset.id == "ds.household").values(min_count=1))  # nothing withheld
    with city.unit_of_work() as s:
        fig = read("places.service_circle")(s)
        households = s.execute(select(Household.region_code, Address.latitude, Address.longitude)
                               .join(Address, Address.id == Household.address_id)).all()
        places = s.execute(select(Place.category, Place.latitude, Place.longitude)).all()
        radius = {c.code: c.walking_radius_m for c in s.scalars(select(PlaceCategory))}
    total: dict[str, int] = defaultdict(int)
    covered: dict[tuple[str, str], int] = defaultdict(int)
    for code, hlat, hlon in households:
        total[code] += 1
        for cat, r in radius.items():
            if any(geo.haversine_m(hlat, hlon, plat, plon) <= r for c, plat, plon in places if c == cat):
                covered[(code, cat)] += 1
    assert fig["located_households"] == len(households)
    assert set(fig["communities"]) == set(total)
    some_partial = False
    for code, by_cat in fig["communities"].items():
        for cat in radius:
            cell = by_cat[cat]
            assert cell["households"] == total[code]
            assert cell["covered"] == covered[(code, cat)], (code, cat)
            assert cell["share"] == covered[(code, cat)] / total[code]
            some_partial |= 0 < cell["covered"] < cell["households"]
    assert some_partial  # the city is not all-or-nothing: the test can tell counts apart
    assert fig["generated_points"] is True


def test_small_counts_are_withheld(city) -> None:  # type: ignore[no-untyped-def]
    with city.unit_of_work() as s:
        s.execute(update(Dataset).where(Dataset.id == "ds.household").values(min_count=10_000))
    with city.unit_of_work() as s:
        fig = service_circle(s)
    cells = [c for by_cat in fig["communities"].values() for c in by_cat.values()]
    assert cells and all(c["share"] is None and c["households"] is None for c in cells)


def test_the_map_layers_and_page(city, client) -> None:  # type: ignore[no-untyped-def]
    with city.unit_of_work() as s:
        layers = map_layers(s)
    kinds = {f["properties"]["level"] for f in layers["boundaries"]["features"]}
    assert kinds == {"district", "community"}
    assert all(f["properties"]["demo"] for f in layers["boundaries"]["features"])
    assert len(layers["places"]) == 61 and layers["service_circle"]["communities"]
    api = client.get("/api/v1/places/map")
    assert api.status_code == 200 and api.json()["demo"] is True
    page = client.get("/places/map")
    assert page.status_code == 200
    assert 'id="map-demo-note"' in page.text and re.search(r"/static/js/places-map\.[0-9a-f]{10}\.js", page.text)
    # ECharts is not in the page: the script loads it after first paint.
    assert 'src="/static/vendor/echarts' not in page.text
    assert re.search(r'data-echarts="/static/vendor/echarts-map\.[0-9a-f]{10}\.js"', page.text)
    circle = client.get("/api/v1/places/service-circle")
    assert circle.status_code == 200 and circle.json()["generated_points"] is True
