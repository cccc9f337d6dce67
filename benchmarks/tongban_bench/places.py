"""`tongban bench places`: near-me search over N places (100,000 by default) on the grid-cell
B-tree index (`places.service.near`), beside a brute-force scan (every place's distance) in the
same run, and the index at other cell sizes. Every query's answer must equal the brute force's
(exit 1 otherwise)."""

from __future__ import annotations

import functools
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from tongban.core.cliutil import console, fail
from tongban_bench import app

CENTRE = (29.87, 121.55)  # Ningbo
HALF_SIDE_M = 30_000  # places spread over a 60 km × 60 km square: a city and its county towns
CATEGORIES = ("service_hall", "clinic", "elderly_care", "canteen", "library", "culture_hall")
CELL_SIZES = (0.0025, 0.005, 0.01, 0.02)


def _setup(url: str, n: int, seed: int) -> Any:
    import numpy as np
    from sqlalchemy import insert

    from tongban.core import geo, migrate
    from tongban.core.db import Database
    from tongban.places.models import Place, PlaceCategory

    db = Database(url)
    migrate.upgrade(db)
    rng = np.random.default_rng(seed)
    dlat = math.degrees(HALF_SIDE_M / geo.EARTH_RADIUS_M)
    dlon = dlat / math.cos(math.radians(CENTRE[0]))
    # Two thirds in the dense centre (a quarter of the side), the rest over the whole square.
    dense = rng.random(n) < 2 / 3
    spread = np.where(dense, 0.25, 1.0)
    lat = CENTRE[0] + (rng.random(n) * 2 - 1) * dlat * spread
    lon = CENTRE[1] + (rng.random(n) * 2 - 1) * dlon * spread
    cat = rng.integers(0, len(CATEGORIES), n)
    with db.unit_of_work() as s:
        s.execute(insert(PlaceCategory), [{"code": c, "title_zh": c, "title_en": c, "walking_radius_m": 1000,
                                           "position": i} for i, c in enumerate(CATEGORIES)])
        rows = []
        for i in range(n):
            la, lo = round(float(lat[i]), 7), round(float(lon[i]), 7)
            rows.append({"key": f"bench.{i}", "name_zh": f"场所{i}", "category": CATEGORIES[int(cat[i])],
                         "latitude": la, "longitude": lo, "cell": geo.cell_key(la, lo), "hours": {},
                         "services": [], "accessibility": [], "items": [], "source": "import", "demo": True})
            if len(rows) == 20_000:
                s.execute(insert(Place), rows)
                rows = []
        if rows:
            s.execute(insert(Place), rows)
    return db


def _rekey(db: Any, cell_deg: float) -> None:
    """Re-make every place's cell key at another size (the comparison of sizes only)."""
    from sqlalchemy import bindparam, select, update

    from tongban.core import geo
    from tongban.places.models import Place

    with db.unit_of_work() as s:
        rows = s.execute(select(Place.id, Place.latitude, Place.longitude)).all()
        s.connection().execute(update(Place).where(Place.id == bindparam("pid")).values(cell=bindparam("c")),
                               [{"pid": r[0], "c": geo.cell_key(r[1], r[2], cell_deg)} for r in rows])


def _queries(q: int, seed: int) -> list[tuple[float, float, str | None]]:
    import numpy as np

    from tongban.core import geo

    rng = np.random.default_rng(seed + 1)
    dlat = math.degrees(HALF_SIDE_M / geo.EARTH_RADIUS_M) * 0.25
    dlon = dlat / math.cos(math.radians(CENTRE[0]))
    out = []
    for _ in range(q):
        lat = CENTRE[0] + float(rng.random() * 2 - 1) * dlat
        lon = CENTRE[1] + float(rng.random() * 2 - 1) * dlon
        # Half the queries ask for one category, half for any place.
        category = CATEGORIES[int(rng.integers(0, len(CATEGORIES)))] if rng.random() < 0.5 else None
        out.append((lat, lon, category))
    return out


def _time(db: Any, queries: list[tuple[float, float, str | None]],
          run: Callable[[Any, float, float, str | None], list[tuple[int, float]]]) -> tuple[list[float], list[Any]]:
    lat_s: list[float] = []
    answers = []
    with db.unit_of_work() as s:
        for lat, lon, cat in queries:
            t0 = time.perf_counter()
            answers.append(run(s, lat, lon, cat))
            lat_s.append(time.perf_counter() - t0)
    return lat_s, answers


def _p99(xs: list[float]) -> float:
    ys = sorted(xs)
    return ys[min(len(ys) - 1, math.ceil(0.99 * len(ys)) - 1)]


@app.command("places")
def bench_places(
    places: int = typer.Option(100_000, "--places", help="How many places."),
    queries: int = typer.Option(2_000, "--queries", help="Near-me queries on the index."),
    brute_queries: int = typer.Option(50, "--brute-queries", help="Of those, how many the brute force also runs."),
    radius: float = typer.Option(1000, "--radius", help="Metres."),
    limit: int = typer.Option(20, "--limit", help="Places per answer."),
    db_url: str | None = typer.Option(None, "--db", help="A scratch database to fill (e.g. PostgreSQL); "
                                      "default: a scratch SQLite file."),
    sizes: bool = typer.Option(True, "--sizes/--no-sizes", help="Also time the index at other cell sizes."),
    quick: bool = typer.Option(False, "--quick", help="5,000 places, 200 queries: a smoke run for the tests."),
    seed: int = typer.Option(27, "--seed"),
) -> None:
    """Near-me queries per second and p99 on the grid-cell index, beside a brute-force scan."""
    from tongban.core import geo
    from tongban.places import service

    if quick:
        places, queries, brute_queries = 5_000, 200, 20
    if not 1 <= places <= 2_000_000:
        fail("--places must be between 1 and 2,000,000")
    if not 1 <= brute_queries <= queries:
        fail("--brute-queries must be between 1 and --queries")
    with tempfile.TemporaryDirectory() as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'places.db'}"
        console.print(f"filling {places:,} places into {url.split('://')[0]} …")
        db = _setup(url, places, seed)
        qs = _queries(queries, seed)

        def ours(s: Any, lat: float, lon: float, cat: str | None, cell: float = geo.CELL_DEG) -> list[tuple[int, float]]:
            return [(n.place.id, n.distance_m) for n in
                    service.near(s, lat=lat, lon=lon, radius_m=radius, category=cat, limit=limit, cell_deg=cell)]

        def brute(s: Any, lat: float, lon: float, cat: str | None) -> list[tuple[int, float]]:
            return service.near_brute_force(s, lat=lat, lon=lon, radius_m=radius, category=cat, limit=limit)

        # Each method runs the whole query set once untimed first: the first method timed on a cold
        # cache looked 2–4× slower than the same method timed later (two full runs, docs/places.md).
        _time(db, qs, ours)
        idx_t, idx_a = _time(db, qs, ours)
        _time(db, qs[:5], brute)
        bf_t, bf_a = _time(db, qs[:brute_queries], brute)
        agree = idx_a[:brute_queries] == bf_a
        rows = [(f"grid index, cell {geo.CELL_DEG}° (ours)", idx_t)]
        other: list[tuple[str, list[float]]] = []
        if sizes:
            for size in CELL_SIZES:
                if size == geo.CELL_DEG:
                    continue
                _rekey(db, size)
                _time(db, qs, functools.partial(ours, cell=size))
                t, a = _time(db, qs, functools.partial(ours, cell=size))
                agree = agree and a == idx_a
                other.append((f"grid index, cell {size}°", t))
            _rekey(db, geo.CELL_DEG)
        found = statistics.mean(len(a) for a in idx_a)
        dialect = db.engine.dialect.name
        db.dispose()
    table = Table(title=f"near-me over {places:,} places ({dialect}), radius {radius:g} m, "
                        f"≤ {limit} per answer, {found:.1f} found on average")
    table.add_column("method")
    table.add_column("queries", justify="right")
    table.add_column("queries/s", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    for name, t in [*rows, *other, ("brute-force scan (every place's distance)", bf_t)]:
        table.add_row(name, f"{len(t):,}", f"{len(t) / sum(t):,.0f}", f"{statistics.median(t) * 1000:.2f}",
                      f"{_p99(t) * 1000:.2f}")
    console.print(table)
    speedup = (sum(bf_t) / len(bf_t)) / (sum(idx_t) / len(idx_t))
    console.print(f"ours is {speedup:,.0f}× the brute force's queries/s; answers "
                  f"{'equal' if agree else 'DIFFER'} (the first {brute_queries} queries, every cell size)")
    if not agree:
        raise typer.Exit(1)
