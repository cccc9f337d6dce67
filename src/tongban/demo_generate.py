"""`tongban demo generate`: make the synthetic city, to Parquet files or into the database.

Residents live in the communities of the `region` table (level 'community'), which the
demo pack loads (`tongban pack load packs/demo`).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tongban.core import cliutil
from tongban.core.errors import TongbanError
from tongban.core.i18n import gettext

if TYPE_CHECKING:
    from tongban.registry.generator import Enrolments

MAX_INTO_DB = 5_000_000


def enrolments_of_pack(pack_dir: Path) -> Enrolments:
    """The benefits of the pack's `dibao` and `disability_care` policies; a policy the pack
    lacks (or one without a benefit) keeps the demo pack's code. Here, at the top, because it
    joins two slices: the registry's generator does not read policies."""
    from tongban.policy.parse import read_policies
    from tongban.registry.generator import Enrolments

    benefits = {p.id: p.benefit for p in read_policies(pack_dir).policies if p.benefit}
    default = Enrolments()
    return Enrolments(dibao=benefits.get("dibao", default.dibao),
                      disability_care=benefits.get("disability_care", default.disability_care))


def generate(
    persons: int = typer.Option(..., "--persons", help="How many persons (up to 20,000,000)."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same city."),
    out: Path | None = typer.Option(None, "--out", help="Write Parquet files (one folder per table) here."),
    into_db: bool = typer.Option(False, "--into-db", help="Load into the database (up to 5,000,000 persons)."),
    as_of: str | None = typer.Option(None, "--as-of", help="The city's 'today' (YYYY-MM-DD); default today."),
    workers: int = typer.Option(min(os.cpu_count() or 1, 4), "--workers", help="Processes for --out."),
    force: bool = typer.Option(False, "--force", help="Replace a city already written in --out."),
) -> None:
    """Generate a synthetic city of PERSONS residents (same seed and --as-of, same city)."""
    from tongban.core.packs.loader import resolve_pack_dir
    from tongban.core.timeutil import today_local
    from tongban.registry import loader
    from tongban.registry.generator import MAX_PERSONS, CityConfig, write_parquet
    from tongban.registry.generator import generate as generate_city

    if (out is None) == (not into_db):
        cliutil.fail("give exactly one of --out DIR or --into-db")
    if not 0 < persons <= MAX_PERSONS:
        cliutil.fail(f"--persons must be between 1 and {MAX_PERSONS:,}")
    if into_db and persons > MAX_INTO_DB:
        cliutil.fail(f"--into-db is for up to {MAX_INTO_DB:,} persons; write larger cities with --out")
    try:
        day = dt.date.fromisoformat(as_of) if as_of else today_local()
    except ValueError:
        cliutil.fail("--as-of must be a date YYYY-MM-DD")
    if out is not None and (out / "manifest.json").exists() and not force:
        cliutil.fail(f"{out} already holds a generated city; use --force to replace it")

    db = cliutil.database()
    communities = loader.community_codes(db)
    if not communities:
        cliutil.fail("no communities in the region table: load the demo pack first "
                     "(tongban pack load packs/demo)")
    try:
        config = CityConfig(persons=persons, seed=seed, communities=tuple(communities), as_of=day,
                            shapes=loader.community_shapes(db),
                            enrolments=enrolments_of_pack(resolve_pack_dir(cliutil.settings().pack_dir)))
    except (ValueError, TongbanError) as exc:  # e.g. a community code outside GB/T 2260; a pack in error
        cliutil.fail(str(exc))

    started = time.perf_counter()
    with cliutil.progress() as bar:
        task = bar.add_task("generating", total=persons)

        def advance(n: int) -> None:
            bar.advance(task, n)

        if out is not None:
            if force:
                _remove_city(out)
            written = write_parquet(config, out, workers=workers, on_chunk=advance)
            elapsed = time.perf_counter() - started
            cliutil.console.print(
                f"{persons:,} persons in {elapsed:.1f} s ({persons / elapsed:,.0f}/s), "
                f"{written.bytes / 2**20:,.1f} MiB of Parquet in {out}"
            )
            for table, count in written.counts.items():
                cliutil.console.print(f"  {table}: {count:,}")
            return
        try:
            stats = loader.load(db, generate_city(config), on_chunk=advance)
        except TongbanError as exc:
            cliutil.fail(gettext(exc.message))
    elapsed = time.perf_counter() - started
    cliutil.console.print(f"{stats.persons:,} persons ({stats.rows:,} rows) loaded in {elapsed:.1f} s "
                          f"({stats.persons / elapsed:,.0f} persons/s)")


def _remove_city(out: Path) -> None:
    """Remove only what a previous `generate --out` wrote there."""
    from tongban.registry.generator import TABLES

    for table in TABLES:
        for part in (out / table).glob("part-*.parquet"):
            part.unlink()
    (out / "manifest.json").unlink(missing_ok=True)
