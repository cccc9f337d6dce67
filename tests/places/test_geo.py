"""core.geo: the GCJ-02 round trip within its bound, distances, the grid's key ranges, polygons."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tongban.core import geo

# Inside China's box with 0.01° to spare (module docstring: the box edge is not round-tripped).
LAT = st.floats(min_value=0.8293 + 0.01, max_value=55.8271 - 0.01, allow_nan=False)
LON = st.floats(min_value=72.004 + 0.01, max_value=137.8347 - 0.01, allow_nan=False)


@given(LAT, LON)
@settings(max_examples=400, deadline=None)
def test_gcj02_round_trip_stays_within_its_bound(lat: float, lon: float) -> None:
    g_lat, g_lon = geo.wgs84_to_gcj02(lat, lon)
    w_lat, w_lon = geo.gcj02_to_wgs84(g_lat, g_lon)
    assert abs(w_lat - lat) <= geo.GCJ_ROUND_TRIP_BOUND_DEG
    assert abs(w_lon - lon) <= geo.GCJ_ROUND_TRIP_BOUND_DEG


@given(LAT, LON)
@settings(max_examples=200, deadline=None)
def test_gcj02_offset_is_real_and_the_inverse_undoes_it(lat: float, lon: float) -> None:
    g_lat, g_lon = geo.wgs84_to_gcj02(lat, lon)
    # The obfuscation moves points by tens to hundreds of metres: a no-op inverse would fail above.
    assert geo.haversine_m(lat, lon, g_lat, g_lon) > 1.0
    w_lat, w_lon = geo.gcj02_to_wgs84(g_lat, g_lon)
    assert geo.haversine_m(lat, lon, w_lat, w_lon) < 0.01  # under a centimetre


def test_gcj02_known_point_and_outside_china() -> None:
    # Tiananmen, WGS-84 → GCJ-02: the offset there is about (+0.0014, +0.0062) degrees.
    g_lat, g_lon = geo.wgs84_to_gcj02(39.90734, 116.39089)
    assert 0.0010 < g_lat - 39.90734 < 0.0018 and 0.0055 < g_lon - 116.39089 < 0.0068
    assert geo.gcj02_to_wgs84(51.5, -0.12) == (51.5, -0.12)  # London: GCJ-02 is WGS-84 there
    assert geo.to_stored("gcj02", g_lat, g_lon) == geo.gcj02_to_wgs84(g_lat, g_lon)


def test_haversine_of_one_degree_of_latitude() -> None:
    assert math.isclose(geo.haversine_m(29.0, 121.0, 30.0, 121.0), math.radians(1) * geo.EARTH_RADIUS_M,
                        rel_tol=1e-12)
    assert float(geo.haversine_np(np.array([29.0]), np.array([121.0]), 30.0, 121.0)[0]) == \
        geo.haversine_m(29.0, 121.0, 30.0, 121.0)


@given(st.floats(-80, 80), st.floats(-179.9, 179.9), st.floats(1, 20_000),
       st.floats(0, 2 * math.pi), st.floats(0, 1))
@settings(max_examples=300, deadline=None)
def test_every_point_in_the_circle_falls_in_a_cell_of_its_ranges(lat: float, lon: float, r: float,
                                                                  bearing: float, frac: float) -> None:
    # A point at distance frac·r along `bearing` (the sphere's direct formula).
    d = frac * r / geo.EARTH_RADIUS_M
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    l2 = l1 + math.atan2(math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    plat, plon = math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180
    assert geo.haversine_m(lat, lon, plat, plon) <= r * (1 + 1e-9) + 1e-6
    key = geo.cell_key(plat, plon)
    assert any(a <= key <= b for a, b in geo.cell_ranges(lat, lon, r))


def test_polygon_and_voronoi_cells() -> None:
    square = [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]]
    inside = geo.in_polygon(np.array([1.0, 3.0, 0.5]), np.array([1.0, 1.0, 1.9]), square)
    assert inside.tolist() == [True, False, True]
    centres = np.array([[0.5, 1.0], [1.5, 1.0]])
    cells = geo.voronoi_cells(centres, square)
    # The two cells split the square at x = 1 (equal latitude: the scale does not move it).
    assert all(x <= 1.0 + 1e-9 for x, _ in cells[0]) and all(x >= 1.0 - 1e-9 for x, _ in cells[1])
    rng = np.random.default_rng(1)
    which = np.array([0] * 50 + [1] * 50, dtype=np.int64)
    lon, lat = geo.points_in_cells(rng, centres, square, which, spread_m=20_000)
    assert (geo.nearest_centre(lon, lat, centres) == which).all()
    assert geo.in_polygon(lon, lat, square).all()
