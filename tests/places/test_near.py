"""Near-me: the right places in the right order at the boundary of the radius, on the index and by
brute force alike; the API, CLI and page."""

from __future__ import annotations

import math

import pytest

from tongban.core import geo
from tongban.places import service
from tongban.places.models import Place, PlaceCategory

# A query point a hair south-west of a grid corner, so the circle spans rows and columns.
LAT, LON = 29.8699999, 121.5399999


def _destination(lat: float, lon: float, bearing_deg: float, d_m: float) -> tuple[float, float]:
    d, b = d_m / geo.EARTH_RADIUS_M, math.radians(bearing_deg)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), math.degrees(l2)


def _add(s, key: str, lat: float, lon: float, category: str = "clinic") -> Place:  # type: ignore[no-untyped-def]
    values = service.place_values(key=key, name_zh=key, name_en=None, category=category, region_code=None,
                                  address=None, phone=None, latitude=lat, longitude=lon, datum="wgs84",
                                  hours={}, services=[], accessibility=[], items=[], source="import", demo=False)
    p = Place(**values)
    s.add(p)
    s.flush()
    return p


@pytest.fixture()
def ring(db):  # type: ignore[no-untyped-def]
    """Clinics at 300 m … 1 000.5 m in eight directions, two at the same spot, and a
    library inside the radius (another category)."""
    with db.unit_of_work() as s:
        s.add_all([PlaceCategory(code="clinic", title_zh="卫生站", title_en="Clinic", walking_radius_m=1000),
                   PlaceCategory(code="library", title_zh="图书馆", title_en="Library", walking_radius_m=1000)])
        s.flush()
        spots = [("c300", 0, 300.0), ("c999", 45, 999.0), ("c999b", 45, 999.0), ("c1000.5", 90, 1000.5),
                 ("c1500", 180, 1500.0), ("c700", 135, 700.0), ("c999.9", 270, 999.9), ("c2000", 315, 2000.0)]
        for key, bearing, d in spots:
            _add(s, key, *_destination(LAT, LON, bearing, d))
        _add(s, "lib200", *_destination(LAT, LON, 10, 200.0), category="library")
    return db


def test_near_me_at_the_boundary_of_the_radius(ring) -> None:  # type: ignore[no-untyped-def]
    with ring.unit_of_work() as s:
        found = service.near(s, lat=LAT, lon=LON, radius_m=1000, category="clinic")
        keys = [n.place.key for n in found]
        # 1 000.5 m is out, 999.9 m is in; equal distances keep id order.
        assert keys == ["c300", "c700", "c999", "c999b", "c999.9"]
        assert [n.distance_m for n in found] == sorted(n.distance_m for n in found)
        brute = service.near_brute_force(s, lat=LAT, lon=LON, radius_m=1000, category="clinic")
        assert [n.place.id for n in found] == [pid for pid, _ in brute]
        # Inclusive: a radius equal to a stored place's distance takes it.
        edge = next(n for n in found if n.place.key == "c999.9")
        again = service.near(s, lat=LAT, lon=LON, radius_m=edge.distance_m, category="clinic")
        assert again[-1].place.key == "c999.9"
        shorter = service.near(s, lat=LAT, lon=LON, radius_m=math.nextafter(edge.distance_m, 0), category="clinic")
        assert "c999.9" not in [n.place.key for n in shorter]
        # Every category: the library comes in second; the limit cuts the tail.
        every = service.near(s, lat=LAT, lon=LON, radius_m=1000, limit=3)
        assert [n.place.key for n in every] == ["lib200", "c300", "c700"]


def test_near_me_agrees_with_brute_force_on_random_places(db) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    rng = np.random.default_rng(7)
    with db.unit_of_work() as s:
        s.add(PlaceCategory(code="clinic", title_zh="卫生站", title_en="Clinic", walking_radius_m=1000))
        s.flush()
        for i in range(400):
            _add(s, f"p{i}", 29.85 + rng.random() * 0.05, 121.50 + rng.random() * 0.06)
    with db.unit_of_work() as s:
        for _ in range(30):
            lat, lon, r = 29.85 + rng.random() * 0.05, 121.50 + rng.random() * 0.06, float(rng.integers(100, 3000))
            got = [(n.place.id, n.distance_m) for n in service.near(s, lat=lat, lon=lon, radius_m=r, limit=100)]
            assert got == service.near_brute_force(s, lat=lat, lon=lon, radius_m=r, limit=100)


def test_near_me_api(ring, client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/places/near", params={"lat": LAT, "lon": LON, "radius_m": 1000, "category": "clinic"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [p["key"] for p in body] == ["c300", "c700", "c999", "c999b", "c999.9"]
    assert body[0]["distance_m"] == pytest.approx(300.0, abs=0.1)
    assert set(body[0]["hours"]) >= {"open_now", "today", "weekly"}
    bad = client.get("/api/v1/places/near", params={"lat": 95, "lon": LON}, headers={"Accept-Language": "zh-CN"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["field"] == "lat" and "纬度" in bad.json()["detail"]
    unknown = client.get("/api/v1/places/near", params={"lat": LAT, "lon": LON, "category": "zoo"},
                         headers={"Accept-Language": "en"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "category"
    one = client.get(f"/api/v1/places/{body[0]['id']}")
    assert one.status_code == 200 and one.json()["key"] == "c300"
    assert client.get("/api/v1/places/999999").status_code == 404


def test_near_me_in_gcj02_finds_the_same_places(ring, client) -> None:  # type: ignore[no-untyped-def]
    g_lat, g_lon = geo.wgs84_to_gcj02(LAT, LON)
    r = client.get("/api/v1/places/near", params={"lat": g_lat, "lon": g_lon, "radius_m": 1000,
                                                  "category": "clinic", "datum": "gcj02"})
    assert [p["key"] for p in r.json()] == ["c300", "c700", "c999", "c999b", "c999.9"]


def test_near_me_cli(ring, cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("places", "near", "--lat", str(LAT), "--lon", str(LON), "--radius", "1000", "--category", "clinic")
    assert out.exit_code == 0, out.output
    assert out.output.index("c300") < out.output.index("c700") < out.output.index("c999.9")
    assert "c1000.5" not in out.output
    bad = cli("places", "near", "--lat", "95", "--lon", str(LON))
    assert bad.exit_code != 0 and "lat" in bad.output


def test_near_me_page_on_a_phone(pack, client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/places/near", params={"community": "330203004002", "category": "clinic", "radius_m": 1000})
    assert page.status_code == 200
    assert 'name="viewport"' in page.text and "data-place-id" in page.text
    first = page.text.index("data-place-id")
    assert "平桥卫生服务站" in page.text[first:first + 600] or "卫生服务站" in page.text[first:first + 600]
    partial = client.get("/places/near", params={"community": "330203004002"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.text and "data-place-id" in partial.text
    bad = client.get("/places/near", params={"lat": "x", "lon": "121.5"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
