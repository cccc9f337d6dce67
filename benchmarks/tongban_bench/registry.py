"""`tongban bench registry`: the synthetic city's generation rate, Parquet size, peak memory
and load rates into SQLite and PostgreSQL, beside Faker zh_CN measured in the same run."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from tongban.core.cliutil import console, fail
from tongban_bench import app

# A small region tree of its own, so the benchmark needs no pack.
BENCH_REGIONS = [
    ("330000", "province", None), ("330200", "city", "330000"),
    ("330203", "county", "330200"), ("330205", "county", "330200"),
    ("330203001", "street", "330203"), ("330205001", "street", "330205"),
    ("330203001001", "community", "330203001"), ("330203001002", "community", "330203001"),
    ("330203001003", "community", "330203001"), ("330205001001", "community", "330205001"),
    ("330205001002", "community", "330205001"),
]
COMMUNITIES = tuple(code for code, level, _ in BENCH_REGIONS if level == "community")
AS_OF = dt.date(2025, 6, 30)
LOAD_MAX = 2_000_000  # loads are measured up to this size; larger cities stay in Parquet


def _child(persons: int, out: str, workers: int) -> None:
    """Run in a fresh interpreter so its peak RSS is the generator's own."""
    import resource

    from tongban.registry.generator import CityConfig, write_parquet

    cfg = CityConfig(persons=persons, seed=1, communities=COMMUNITIES, as_of=AS_OF)
    started = time.perf_counter()
    written = write_parquet(cfg, Path(out), workers=workers)
    elapsed = time.perf_counter() - started
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)  # KiB on Linux
    print(json.dumps({"seconds": elapsed, "bytes": written.bytes, "peak_kib": peak, "rows": sum(written.counts.values())}))


def _generate(persons: int, out: Path, workers: int) -> dict[str, Any]:
    code = f"from tongban_bench.registry import _child; _child({persons}, {str(out)!r}, {workers})"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        fail(f"generation failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr else proc.returncode}", 1)
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _prepare(url: str) -> Any:
    from tongban.core import migrate
    from tongban.core.access import region_prefix
    from tongban.core.db import Database
    from tongban.core.identity.models import Region

    db = Database(url)
    migrate.upgrade(db)
    with db.unit_of_work() as session:
        for code, level, parent in BENCH_REGIONS:
            session.add(Region(code=code, level=level, parent_code=parent, prefix=region_prefix(code),
                               name_zh=code, name_en=code))
    return db


def _load(url: str, out: Path) -> tuple[float, float]:
    from tongban.registry import generator, loader

    db = _prepare(url)
    try:
        started = time.perf_counter()
        stats = loader.load(db, generator.read_parquet(out))
        elapsed = time.perf_counter() - started
    finally:
        db.dispose()
    return stats.persons / elapsed, stats.rows / elapsed


def _pg_scratch(pg_url: str, name: str, create: bool) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(pg_url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')
    return u.set(drivername="postgresql", database=name).render_as_string(hide_password=False)


def _faker(sample: int) -> dict[str, Any] | None:
    """Faker zh_CN making `sample` persons, measured now; None when Faker is not installed (no
    figure is quoted from elsewhere in its place)."""
    from stdnum.cn import ric

    def ok(n: str) -> bool:
        try:
            return bool(ric.is_valid(n))
        except Exception:  # python-stdnum raised KeyError for some prefixes (DOMAIN.md)
            return False

    try:
        from faker import Faker
    except ImportError:
        return None
    fake = Faker("zh_CN")
    Faker.seed(1)
    started = time.perf_counter()
    ssns = []
    for _ in range(sample):
        fake.name()
        ssns.append(fake.ssn())
        fake.phone_number()
        fake.address()
    rate = sample / (time.perf_counter() - started)
    return {"rate": rate, "valid": sum(map(ok, ssns)) / sample, "how": f"measured, {sample:,} persons"}


def _our_validity(out: Path) -> float:
    import polars as pl
    from stdnum.cn import ric

    ids = pl.read_parquet(out / "person" / "part-00000.parquet")["id_number"].head(20_000).to_list()
    return sum(map(ric.is_valid, ids)) / len(ids)


@app.command("registry")
def registry(
    persons: str = typer.Option("100000,1000000", "--persons", help="Comma-separated city sizes."),
    quick: bool = typer.Option(False, "--quick", help="One small city (5,000 persons), for the test suite."),
    pg_url: str | None = typer.Option(None, "--pg-url", help="PostgreSQL server to measure loading into "
                                      "(a scratch database is created and dropped)."),
    workers: int = typer.Option(2, "--workers", help="Generator processes."),
    faker_sample: int = typer.Option(2_000, "--faker-sample", help="Persons Faker makes for the comparison."),
) -> None:
    """Generation rate, Parquet size, peak memory and load rates of the synthetic city."""
    try:
        sizes = [5_000] if quick else [int(p.replace("_", "")) for p in persons.split(",") if p.strip()]
    except ValueError:
        fail("--persons takes whole numbers separated by commas")
    if not sizes or any(not 0 < n <= 20_000_000 for n in sizes):
        fail("each --persons size must be between 1 and 20,000,000")
    if quick:
        workers, faker_sample = 1, min(faker_sample, 300)

    table = Table(title="Synthetic city (tongban demo generate)")
    for col in ("persons", "gen s", "gen /s", "Parquet MiB", "peak MiB", "SQLite /s", "PG /s"):
        table.add_column(col, justify="right", no_wrap=True)
    validity = None
    with tempfile.TemporaryDirectory(prefix="tongban-bench-") as tmp:
        for n in sizes:
            out = Path(tmp) / f"city-{n}"
            gen = _generate(n, out, workers)
            if validity is None:
                validity = _our_validity(out)
            sqlite_rate = pg_rate = "—"
            if n <= LOAD_MAX:
                sqlite_rate = f"{_load(f'sqlite:///{tmp}/bench-{n}.db', out)[0]:,.0f}"
                if pg_url:
                    scratch = f"tongban_bench_registry_{os.getpid()}"
                    url = _pg_scratch(pg_url, scratch, create=True)
                    try:
                        pg_rate = f"{_load(url, out)[0]:,.0f}"
                    finally:
                        _pg_scratch(pg_url, scratch, create=False)
            table.add_row(f"{n:,}", f"{gen['seconds']:.1f}", f"{n / gen['seconds']:,.0f}",
                          f"{gen['bytes'] / 2**20:,.1f}", f"{gen['peak_kib'] / 1024:,.0f}", sqlite_rate, pg_rate)
            for part in out.rglob("*.parquet"):
                part.unlink()
    console.print(table)
    console.print("/s = persons per second (each person brings about 12 rows: household, incomes, assets …); "
                  "peak MiB = largest resident set of one generator process; loads up to "
                  f"{LOAD_MAX:,} persons; PG /s needs --pg-url.")
    faker = _faker(faker_sample)
    cmp = Table(title="Beside Faker zh_CN")
    for col in ("generator", "persons/s", "ID numbers passing stdnum.cn.ric", "figure"):
        cmp.add_column(col)
    first = sizes[0]
    cmp.add_row("tongban (first size above)", "see above", f"{validity:.0%}" if validity is not None else "—",
                f"measured, {first:,} persons")
    if faker is None:
        cmp.add_row("Faker zh_CN", "—", "—", "not measured: Faker is not installed (uv sync installs it)")
    else:
        cmp.add_row("Faker zh_CN", f"{faker['rate']:,.0f}", f"{faker['valid']:.0%}", faker["how"])
    console.print(cmp)
