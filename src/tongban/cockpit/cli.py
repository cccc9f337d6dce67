"""`tongban cockpit …`: refresh the store of figures now, and generate a service history."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from tongban.core import cliutil

app = typer.Typer(help="The cockpit (驾驶舱): refresh its figures, generate a service history.",
                  no_args_is_help=True)


@app.command()
def refresh(full: bool = typer.Option(False, "--full", help="Recompute every day of the period, not only "
                                                            "the days changed since the last refresh.")) -> None:
    """Refresh the cockpit's figures and evaluate the early-warning rules."""
    from tongban.cockpit import store

    with cliutil.unit_of_work() as session:
        done = store.refresh(session, full=full)
    for key, (start, end) in done.days.items():
        cliutil.console.print(f"{key}: {start}–{end}, {done.cells[key]:,} cells")
    cliutil.console.print(f"{done.warnings} warnings")


@app.command()
def history(
    persons: int = typer.Option(..., "--persons", help="The city's size (the synthetic-city generator)."),
    days: int = typer.Option(..., "--days", help="How many days of history, to today."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same city and history."),
    rate: float = typer.Option(1.0, "--rate", help="Scales every part's yearly rates."),
    existing: bool = typer.Option(False, "--existing", help="Use the residents already in the registry; "
                                                            "generate no city."),
    parquet: Path | None = typer.Option(None, "--parquet", help="Write the city and its history to this folder "
                                        "as Parquet (for `tongban cockpit load`) instead of into the database."),
) -> None:
    """Generate a city of PERSONS with DAYS of service history (every slice's part), then refresh."""
    from tongban.cockpit import history as generator
    from tongban.core.timeutil import today_local

    if not 1 <= days <= 3660:
        cliutil.fail("--days must be between 1 and 3,660")
    if not 0 < persons <= (20_000_000 if parquet is not None else 5_000_000):
        cliutil.fail("--persons must be between 1 and 5,000,000 (20,000,000 with --parquet)")
    if not 0 < rate <= 100:
        cliutil.fail("--rate must be above 0 and at most 100")
    db = cliutil.database()
    started = time.perf_counter()
    if parquet is not None:
        if existing:
            cliutil.fail("--existing and --parquet do not go together")
        if parquet.exists() and any(parquet.iterdir()):
            cliutil.fail(f"{parquet} is not empty")
        with cliutil.progress() as bar:
            city = bar.add_task("city", total=persons)
            task = bar.add_task("history", total=len(generator.parts()))
            manifest = generator.write_parquet(db, parquet, persons=persons, days=days, seed=seed, rate=rate,
                                               on_city=lambda n: bar.advance(city, n),
                                               on_part=lambda part, rows: bar.advance(task, 1))
            bar.update(task, completed=len(generator.parts()))
        for key, rows in manifest["parts"].items():
            cliutil.console.print(f"  {key}: {rows:,} rows")
        if manifest["deferred"]:
            cliutil.console.print(f"  left for the database (run by `tongban cockpit load`): "
                                  f"{', '.join(manifest['deferred'])}")
        cliutil.console.print(f"{manifest['start']}–{manifest['end']}: written to {parquet} in "
                              f"{time.perf_counter() - started:.1f} s")
        return
    if not existing:
        from tongban.registry import loader
        from tongban.registry.generator import CityConfig
        from tongban.registry.generator import generate as generate_city

        communities = loader.community_codes(db)
        if not communities:
            cliutil.fail("no communities in the region table: load the demo pack first (tongban pack load packs/demo)")
        config = CityConfig(persons=persons, seed=seed, communities=tuple(communities), as_of=today_local(),
                            shapes=loader.community_shapes(db))
        with cliutil.progress() as bar:
            task = bar.add_task("city", total=persons)
            loader.load(db, generate_city(config), on_chunk=lambda n: bar.advance(task, n))
    found = generator.parts()
    with cliutil.progress() as bar:
        task = bar.add_task("history", total=len(found) + 1)

        def advance(part: object, rows: int) -> None:
            bar.advance(task, 1)

        done = generator.run(db, persons=persons, days=days, seed=seed, rate=rate, on_part=advance, found=found)
        bar.advance(task, 1)
    for key, rows in done.rows.items():
        cliutil.console.print(f"  {key}: {rows:,} rows")
    cliutil.console.print(f"{done.start}–{done.end}: {len(done.rows)} parts, {done.cells:,} cells, "
                          f"{done.warnings} warnings in {time.perf_counter() - started:.1f} s")


@app.command()
def load(folder: Path = typer.Argument(..., help="A folder written by `tongban cockpit history --parquet`."),
         city_tables: str | None = typer.Option(None, "--city-tables", help="Load only these of the city's "
                                                "registry tables, comma-separated, with the tables they point to "
                                                "(and so to person, which the history names), e.g. "
                                                "household_member. Default: all.")
         ) -> None:
    """Load a city and its service history written as Parquet into the (empty) database — COPY on
    PostgreSQL — then run the parts left for the database and refresh the cockpit."""
    from tongban.cockpit import history as generator
    from tongban.core.errors import TongbanError

    db = cliutil.database()
    tables = [t.strip() for t in city_tables.split(",") if t.strip()] if city_tables is not None else None
    try:
        manifest = generator.read_manifest(folder)
        kept = generator.city_tables(tables)
    except TongbanError as exc:
        cliutil.fail(exc.translated())
    started = time.perf_counter()
    with cliutil.progress() as bar:
        tasks = {"city": bar.add_task("city", total=manifest["persons"])}
        tasks |= {t: bar.add_task(t, total=n) for t, n in manifest["tables"].items()}
        tasks |= {k: bar.add_task(k, total=None) for k in manifest["deferred"]}
        try:
            done = generator.load(db, folder, on_rows=lambda t, n: bar.advance(tasks[t], n), tables=tables)
        except TongbanError as exc:
            cliutil.fail(exc.translated())
    if tables is not None:
        cliutil.console.print(f"  the city's tables loaded: {', '.join(kept)}")
    for key, rows in done.rows.items():
        cliutil.console.print(f"  {key}: {rows:,} rows in {done.seconds[key]:,.1f} s")
    cliutil.console.print(f"cockpit refreshed: {done.cells:,} cells in {done.seconds['refresh']:,.1f} s; "
                          f"all in {time.perf_counter() - started:,.1f} s")
