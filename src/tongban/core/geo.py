"""Geometry on the Earth, knowing no domain: distances, the GCJ-02 datum, the grid cells of the
near-me index, polygons and the demo's Voronoi-like community cells.

**Stored datum.** Coordinates are stored in WGS-84 (which agrees with CGCS2000, China's national
datum, to centimetres at city scale). Coordinates taken from Chinese web maps (AMap, Tencent) are
in GCJ-02, WGS-84 with an obfuscating offset of a few hundred metres; `gcj02_to_wgs84` converts
them on import.

**The GCJ-02 conversion.** `wgs84_to_gcj02` is the published forward transform (Krasovsky
ellipsoid, a = 6378245 m, e² = 0.00669342162296594323; the trigonometric series of the leaked
reference code). It has no closed inverse. `gcj02_to_wgs84` is its *iterative inverse* by
fixed-point iteration: w₀ = g, wₖ₊₁ = wₖ − (F(wₖ) − g). The offset changes by less than 10⁻³
degree per degree, so the map w ↦ w − (F(w) − g) is a contraction with factor < 10⁻³ and the
iteration converges to the unique w with F(w) = g; it stops when the residual |F(w) − g| is below
`GCJ_TOLERANCE_DEG` (10⁻¹⁰ degree) in both axes, which takes 3–4 steps. Error bound: the result
differs from the true WGS-84 point by at most the residual / (1 − 10⁻³), so under 10⁻⁹ degree
(about 0.1 mm); `GCJ_ROUND_TRIP_BOUND_DEG` (10⁻⁸ degree, about 1 mm) is what the property test
holds a round trip to. Outside China's rough bounding box (`in_china_box`) GCJ-02 is WGS-84.
Points within a few metres of that box's edge are not round-tripped (the forward transform jumps
there); the test keeps 0.01 degree inside it.

**Distances** are great-circle distances on a sphere of the mean Earth radius (IUGG, 6 371 008.8
m) by the haversine formula; the error against the ellipsoid is under 0.5 %, and one function
decides every distance (near-me, coverage, the brute-force yardsticks), so they agree exactly.

**Grid cells** (the near-me index, docs/places.md): a point's cell is the pair (row, column) of
`CELL_DEG`-degree squares, folded into one integer `cell_key`. A B-tree index on the key (and the
category) works the same on SQLite and PostgreSQL without extensions: the cells a circle can touch
are, per row, one contiguous range of keys (`cell_ranges`), so a query is a few `BETWEEN`s on the
index (with the circle's bounding box on the coordinates), then the exact distance on the
candidates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_M = 6_371_008.8
FloatArray = npt.NDArray[np.float64]

# --- distances --------------------------------------------------------------------------------


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def haversine_np(lat1: FloatArray | float, lon1: FloatArray | float, lat2: FloatArray | float,
                 lon2: FloatArray | float) -> FloatArray:
    """`haversine_m` over arrays (broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a))), dtype=np.float64)


BOX_MARGIN_DEG = 1e-9  # about 0.1 mm: far above float rounding, far below any distance we report


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) holding every point within `radius_m` of (lat, lon):
    the latitude span is r/R; the longitude span is asin(sin(r/R) / cos(lat)), exact on the sphere
    (a pole inside the circle, or a span over 180°, gives every longitude), widened by
    `BOX_MARGIN_DEG` so that rounding never leaves out a point exactly on the circle."""
    d = radius_m / EARTH_RADIUS_M
    dlat = math.degrees(d) + BOX_MARGIN_DEG
    lo_lat, hi_lat = lat - dlat, lat + dlat
    if hi_lat >= 90 or lo_lat <= -90:
        return max(lo_lat, -90.0), min(hi_lat, 90.0), -180.0, 180.0
    s = math.sin(d) / math.cos(math.radians(lat))
    if s >= 1:
        return lo_lat, hi_lat, -180.0, 180.0
    dlon = math.degrees(math.asin(s)) + BOX_MARGIN_DEG
    return lo_lat, hi_lat, lon - dlon, lon + dlon


# --- grid cells -------------------------------------------------------------------------------

CELL_DEG = 0.01  # about 1.1 km north–south; chosen by `tongban bench places` (docs/places.md)


def _cols(cell_deg: float) -> int:
    return round(360 / cell_deg)


def cell_of(lat: float, lon: float, cell_deg: float = CELL_DEG) -> tuple[int, int]:
    return math.floor((lat + 90) / cell_deg), math.floor((lon + 180) / cell_deg)


def cell_key(lat: float, lon: float, cell_deg: float = CELL_DEG) -> int:
    row, col = cell_of(lat, lon, cell_deg)
    return row * _cols(cell_deg) + col


def cell_keys_np(lat: FloatArray, lon: FloatArray, cell_deg: float = CELL_DEG) -> npt.NDArray[np.int64]:
    row = np.floor((np.asarray(lat) + 90) / cell_deg).astype(np.int64)
    col = np.floor((np.asarray(lon) + 180) / cell_deg).astype(np.int64)
    return np.asarray(row * _cols(cell_deg) + col, dtype=np.int64)


def cell_ranges(lat: float, lon: float, radius_m: float, cell_deg: float = CELL_DEG) -> list[tuple[int, int]]:
    """Inclusive key ranges, one per grid row, covering every cell a circle can touch (a circle
    crossing the antimeridian gets two ranges per row). `cell_deg` other than `CELL_DEG` is for
    the benchmark's comparison of sizes only: stored keys are made with `CELL_DEG`."""
    lo_lat, hi_lat, lo_lon, hi_lon = bounding_box(lat, lon, radius_m)
    cols = _cols(cell_deg)
    r0, r1 = cell_of(lo_lat, 0, cell_deg)[0], cell_of(hi_lat, 0, cell_deg)[0]
    spans: list[tuple[float, float]]
    if lo_lon < -180:
        spans = [(-180.0, hi_lon), (lo_lon + 360, 180.0)]
    elif hi_lon > 180:
        spans = [(lo_lon, 180.0), (-180.0, hi_lon - 360)]
    else:
        spans = [(lo_lon, hi_lon)]
    out = []
    for row in range(r0, r1 + 1):
        for a, b in spans:
            c0, c1 = cell_of(0, a, cell_deg)[1], min(cell_of(0, b, cell_deg)[1], cols - 1)
            out.append((row * cols + c0, row * cols + c1))
    return out


# --- the GCJ-02 datum -------------------------------------------------------------------------

_A = 6378245.0
_EE = 0.00669342162296594323
GCJ_TOLERANCE_DEG = 1e-10
GCJ_ROUND_TRIP_BOUND_DEG = 1e-8
GCJ_MAX_STEPS = 30


def in_china_box(lat: float, lon: float) -> bool:
    """The rough box inside which GCJ-02 applies (that of the reference code)."""
    return 72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """The forward GCJ-02 transform: (lat, lon) in WGS-84 → (lat, lon) in GCJ-02."""
    if not in_china_box(lat, lon):
        return lat, lon
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """The iterative inverse of `wgs84_to_gcj02` (module docstring: algorithm and error bound)."""
    if not in_china_box(lat, lon):
        return lat, lon
    w_lat, w_lon = lat, lon
    for _ in range(GCJ_MAX_STEPS):
        g_lat, g_lon = wgs84_to_gcj02(w_lat, w_lon)
        e_lat, e_lon = g_lat - lat, g_lon - lon
        if abs(e_lat) < GCJ_TOLERANCE_DEG and abs(e_lon) < GCJ_TOLERANCE_DEG:
            break
        w_lat, w_lon = w_lat - e_lat, w_lon - e_lon
    return w_lat, w_lon


DATUMS = ("wgs84", "gcj02")


def to_stored(datum: str, lat: float, lon: float) -> tuple[float, float]:
    """A point given in `datum` in the stored datum (WGS-84)."""
    if datum == "wgs84":
        return lat, lon
    if datum == "gcj02":
        return gcj02_to_wgs84(lat, lon)
    raise ValueError(f"unknown datum {datum!r}")


# --- polygons and the demo's community cells ----------------------------------------------------

Ring = Sequence[Sequence[float]]  # [(lon, lat), …], not closed


def in_polygon(lon: FloatArray, lat: FloatArray, ring: Ring) -> npt.NDArray[np.bool_]:
    """Even–odd ray casting, vectorised over the points."""
    x, y = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    inside = np.zeros(x.shape, dtype=bool)
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i]
        x2, y2 = ring[(i + 1) % n]
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < at)
    return inside


def _scale(lat0: float) -> float:
    return math.cos(math.radians(lat0))


def nearest_centre(lon: FloatArray, lat: FloatArray, centres: FloatArray) -> npt.NDArray[np.int64]:
    """Index of each point's nearest centre ((k, 2) array of lon, lat), in the local plane
    (longitude scaled by the cosine of the centres' mean latitude): the metric of the cells."""
    s = _scale(float(centres[:, 1].mean()))
    dx = (np.asarray(lon)[:, None] - centres[None, :, 0]) * s
    dy = np.asarray(lat)[:, None] - centres[None, :, 1]
    return np.asarray(np.argmin(dx * dx + dy * dy, axis=1), dtype=np.int64)


def _clip(poly: list[tuple[float, float]], a: float, b: float, c: float) -> list[tuple[float, float]]:
    """Sutherland–Hodgman: the part of `poly` where a·x + b·y ≤ c."""
    out: list[tuple[float, float]] = []
    n = len(poly)
    for i in range(n):
        p, q = poly[i], poly[(i + 1) % n]
        fp, fq = a * p[0] + b * p[1] - c, a * q[0] + b * q[1] - c
        if fp <= 0:
            out.append(p)
        if (fp < 0 < fq) or (fq < 0 < fp):
            t = fp / (fp - fq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def voronoi_cells(centres: FloatArray, outline: Ring) -> list[list[tuple[float, float]]]:
    """Each centre's cell (the points nearer to it than to any other, in `nearest_centre`'s metric)
    clipped to the outline, as a ring of (lon, lat). Demo shapes only: not a survey."""
    s = _scale(float(centres[:, 1].mean()))
    base = [(float(x) * s, float(y)) for x, y in outline]
    cells = []
    for i, (xi, yi) in enumerate(centres):
        poly = base
        for j, (xj, yj) in enumerate(centres):
            if i == j or not poly:
                continue
            # |p - ci|² ≤ |p - cj|²  ⇔  2(cj - ci)·p ≤ |cj|² - |ci|²
            ax, ay = 2 * (xj - xi) * s, 2 * (yj - yi)
            c = (xj * s) ** 2 + yj ** 2 - (xi * s) ** 2 - yi ** 2
            poly = _clip(poly, ax, ay, c)
        cells.append([(x / s, y) for x, y in poly])
    return cells


def points_in_cells(rng: np.random.Generator, centres: FloatArray, outline: Ring | None,
                    which: npt.NDArray[np.int64], spread_m: float = 350.0,
                    rounds: int = 25) -> tuple[FloatArray, FloatArray]:
    """A point inside the cell of centre `which[i]` for every i: drawn around the centre (normal,
    `spread_m` in each axis) and redrawn until it lies in its own cell and inside the outline; a
    point still outside after `rounds` draws (a tiny cell) takes the centre itself."""
    n = len(which)
    lon = np.asarray(centres[which, 0], dtype=np.float64).copy()
    lat = np.asarray(centres[which, 1], dtype=np.float64).copy()
    pending = np.arange(n)
    sd_lat = math.degrees(spread_m / EARTH_RADIUS_M)
    sd_lon = sd_lat / _scale(float(centres[:, 1].mean()))
    for _ in range(rounds):
        if not len(pending):
            break
        w = which[pending]
        plon = centres[w, 0] + rng.normal(0, sd_lon, len(pending))
        plat = centres[w, 1] + rng.normal(0, sd_lat, len(pending))
        ok = nearest_centre(plon, plat, centres) == w
        if outline is not None:
            ok &= in_polygon(plon, plat, outline)
        lon[pending[ok]], lat[pending[ok]] = plon[ok], plat[ok]
        pending = pending[~ok]
    return lon, lat
