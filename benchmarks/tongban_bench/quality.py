"""`tongban bench quality`: the quality rules over a synthetic city, evaluated set-wise in the
database (what `tongban quality run` does), beside the same row-local rules checked row by row
in Python over the fetched rows (the yardstick)."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from sqlalchemy import select

from tongban.core.cliutil import console, fail, settings
from tongban_bench import app

ROW_LOCAL = ("not_null", "pattern", "resident_id", "range", "allowed")


def _pack_dir() -> Path:
    from tongban_bench.locations import demo_pack

    return demo_pack()


def _city(url: str, persons: int) -> Any:
    """A scratch database with the demo pack and a generated city."""
    from tongban.core import migrate
    from tongban.core.db import Database
    from tongban.core.packs.loader import load_pack
    from tongban.registry import generator, loader

    db = Database(url)
    migrate.upgrade(db)
    with db.unit_of_work() as session:
        load_pack(session, _pack_dir())
    communities = tuple(loader.community_codes(db))
    cfg = generator.CityConfig(persons=persons, seed=1, communities=communities, as_of=dt.date(2025, 6, 30))
    loader.load(db, generator.generate(cfg))
    return db


def _row_by_row(session: Any, spec: Any) -> tuple[int, int]:
    """The yardstick: fetch the rule's column and check each value in Python."""
    from tongban.governance.rules import _where, table_of
    from tongban.registry.identifiers import ric_check_char

    d = spec.definition
    table = table_of(spec.table)
    col = table.c[d["field"]]
    pattern = re.compile(d["pattern"]) if spec.kind == "pattern" else None
    values = set(d.get("values") or [])
    checked = failed = 0
    for (v,) in session.execute(select(col).where(*_where(table, d.get("where"))).execution_options(yield_per=50_000)):
        checked += 1
        if spec.kind == "not_null":
            bad = v is None or (isinstance(v, str) and not v.strip())
        elif v is None:
            bad = False
        elif spec.kind == "pattern":
            bad = pattern.search(v) is None  # type: ignore[union-attr]
        elif spec.kind == "resident_id":
            bad = not (len(v) == 18 and v[:17].isdigit() and v[17] in "0123456789X" and ric_check_char(v[:17]) == v[17])
        elif spec.kind == "range":
            bad = (d.get("min") is not None and v < d["min"]) or (d.get("max") is not None and v > d["max"])
        else:
            bad = v not in values
        failed += bad
    return checked, failed


@app.command("quality")
def bench_quality(
    persons: int = typer.Option(100_000, "--persons", help="Size of the scratch city (ignored with --db)."),
    db_url: str | None = typer.Option(None, "--db", help="Use this database (with a loaded pack and city) instead."),
    quick: bool = typer.Option(False, "--quick", help="A 3,000-person city: a smoke run for the test suite."),
) -> None:
    """Time `tongban quality run` over a city, beside row-by-row Python for the row-local rules."""
    from tongban.core import masking
    from tongban.core.db import Database
    from tongban.governance import quality
    from tongban.governance.models import QualityResult, QualityRule

    if quick:
        persons = 3_000
    if not 0 < persons <= 5_000_000:
        fail("--persons must be between 1 and 5,000,000")
    masking.configure(settings().secret_key)  # as every command does (samples are masked, not pseudonymised)
    with tempfile.TemporaryDirectory() as tmp:
        if db_url:
            db = Database(db_url)
        else:
            console.print(f"generating a city of {persons:,} persons into a scratch SQLite database …")
            db = _city(f"sqlite:///{Path(tmp) / 'city.db'}", persons)
        with db.unit_of_work() as session:
            run_id = quality.start_run(session, actor="system:bench")[0].id
        started = time.perf_counter()
        with db.unit_of_work() as session:
            quality.execute_run(session, run_id=run_id)
        ours = time.perf_counter() - started
        with db.unit_of_work() as session:
            results = {r.rule_id: r for r in session.scalars(select(QualityResult).where(QualityResult.run_id == run_id))}
            rules = list(session.scalars(select(QualityRule).order_by(QualityRule.id)))
            local = [r for r in rules if r.kind in ROW_LOCAL]
            set_secs = sum(results[r.id].seconds or 0 for r in local)
            rows = sum(results[r.id].checked for r in local)
            t0 = time.perf_counter()
            agree = True
            for r in local:
                spec = quality.spec_of(session, r)
                checked, failed = _row_by_row(session, spec)
                agree = agree and (checked, failed) == (results[r.id].checked, results[r.id].failed)
            python_secs = time.perf_counter() - t0
            persons_n = results["q.person.name"].checked if "q.person.name" in results else 0
        db.dispose()
    table = Table(title=f"quality rules over {persons_n:,} persons ({db.engine.dialect.name}); "
                        "row by row = fetched and checked in Python")
    for col in ("what", "rules", "rows checked", "seconds", "rows/s"):
        table.add_column(col, justify="left" if col == "what" else "right")
    all_rows = sum(r.checked for r in results.values())
    table.add_row("quality run, set-wise SQL", str(len(results)), f"{all_rows:,}",
                  f"{ours:.2f}", f"{all_rows / ours:,.0f}" if ours else "—")
    table.add_row("row-local, set-wise SQL", str(len(local)), f"{rows:,}", f"{set_secs:.2f}",
                  f"{rows / set_secs:,.0f}" if set_secs else "—")
    table.add_row("row-local, row by row", str(len(local)), f"{rows:,}", f"{python_secs:.2f}",
                  f"{rows / python_secs:,.0f}" if python_secs else "—")
    console.print(table)
    console.print("both ways found the same failing rows" if agree else "[red]the two ways disagree[/]")
    if not agree:
        raise typer.Exit(1)
