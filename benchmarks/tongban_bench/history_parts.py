"""`tongban bench history-parts`: each contributed part of the service history (`cockpit.history`:
the services' applications with tasks, the 12345 cases, the codes, and any other slice's) timed
over a generated city on SQLite — by default 100,000 persons × 90 days, which must take under a
minute in all (exit 1 otherwise). The city and the pack are made first, untimed."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

import typer
from rich.table import Table

from tongban.core.cliutil import EXIT_FAILED, console
from tongban_bench import app

LIMIT_S = 60.0
START = dt.date(2026, 1, 5)  # a year the working-day library knows


def run(persons: int, days: int, seed: int, folder: Path) -> tuple[list[tuple[str, int, float]], float]:
    """[(part, rows written, seconds)] and the seconds the city took."""
    from tongban.core import migrate, slices
    from tongban.core.db import Database
    from tongban.core.indicators import HISTORY, History
    from tongban.core.keys import Keyring
    from tongban.core.packs.loader import load_pack
    from tongban.registry import generator, loader
    from tongban_bench.locations import demo_pack

    db = Database(f"sqlite:///{folder / 'history.db'}")
    migrate.upgrade(db)
    started = time.perf_counter()
    with db.unit_of_work() as s:
        load_pack(s, demo_pack())
    cfg = generator.CityConfig(persons=persons, seed=seed, communities=tuple(loader.community_codes(db)),
                               as_of=START, shapes=loader.community_shapes(db))
    loader.load(db, generator.generate(cfg))
    city = time.perf_counter() - started
    out = []
    with db.unit_of_work() as s:
        history = History(session=s, seed=seed, start=START, end=START + dt.timedelta(days=days - 1),
                          persons=persons, notes={"keyring": Keyring(folder / "keys", demo=True)})
        for part in sorted(slices.contributed(HISTORY), key=lambda p: p.order):
            t = time.perf_counter()
            rows = part.write(history)
            s.flush()
            out.append((part.key, rows, time.perf_counter() - t))
    db.dispose()
    return out, city


@app.command("history-parts")
def bench_history_parts(
    persons: int = typer.Option(100_000, "--persons", min=100, max=1_000_000, help="Persons in the generated city."),
    days: int = typer.Option(90, "--days", min=1, max=366, help="Days of history."),
    seed: int = typer.Option(1, "--seed"),
    limit: float = typer.Option(LIMIT_S, "--limit", min=0.0, help="Seconds all the parts may take together."),
    quick: bool = typer.Option(False, help="2,000 persons × 10 days (for the test suite)."),
) -> None:
    """Each service-history part's rows and seconds over a generated city on SQLite."""
    if quick:
        persons, days = min(persons, 2000), min(days, 10)
    parts, city = run(persons, days, seed, Path(tempfile.mkdtemp(prefix="bench-history-")))
    table = Table(title=f"service history: {persons:,} persons × {days} days (SQLite)",
                  caption=f"the city and the pack, untimed: {city:,.1f} s")
    for col in ("part", "rows", "seconds", "rows/s"):
        table.add_column(col, justify="left" if col == "part" else "right")
    for key, rows, seconds in parts:
        table.add_row(key, f"{rows:,}", f"{seconds:,.1f}", f"{rows / seconds:,.0f}" if seconds else "—")
    total = sum(p[2] for p in parts)
    table.add_row("all parts", f"{sum(p[1] for p in parts):,}", f"{total:,.1f}", "")
    console.print(table)
    met = total < limit and all(rows > 0 for _, rows, _ in parts)
    console.print(f"target: every part writes rows, all in under {limit:,.0f} s — {total:,.1f} s "
                  f"({'met' if met else 'MISSED'})")
    if not met:
        raise typer.Exit(EXIT_FAILED)
