"""The second part of `tongban bench screen`: the demo pack's policies over a synthetic city
of 10 million persons, read from Parquet, in under 15 seconds and 4 GiB.

The city is the registry's synthetic city (`tongban.registry.generator`, the one city generator),
turned chunk by chunk into the policy views (`tongban.policy.views.views_of_tables`, by the rules
the registry's snapshot reads with) and written as Parquet parts under
`<cache>/city-<persons>-seed<seed>-v<format>/<view>/`: person, household and previous. Only one
chunk is in memory at a time. It is made once and kept.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SEED = 11
CITY_FORMAT = 5  # 4: pack regions; 5: the registry generator's city (job losses, personal assets, settlements)
AS_OF = dt.date(2026, 6, 30)
VIEWS_FILES = ("person", "household", "previous")


def communities(pack: Path | None = None) -> list[str]:
    """The pack's community codes (12 digits), read by the registry generator through the pack
    loader — where the city's households live. Default: the checkout's demo pack."""
    from tongban.registry.generator import pack_communities
    from tongban_bench.locations import demo_pack

    codes = list(pack_communities(pack or demo_pack()))
    if not codes:
        raise ValueError(f"no communities in the pack {pack or demo_pack()}")
    return codes


def _frames(tables: dict[str, Any], codes: list[str]) -> dict[str, Any]:
    """A generated chunk's registry tables as the views' frames (`policy.views.views_of_tables`,
    the rules the registry's snapshot reads by). Text with a known set of values is stored as an
    Enum and small integers narrow (as a registry export would), the region codes as an Enum of
    the communities; the previous snapshot's income is also bound on the person row as
    `previous__income_monthly` (docs/policy.md), and the full previous view is written too; the
    household view keeps `head_person_id`."""
    import polars as pl

    from tongban.policy.views import views_of_tables
    from tongban.registry import generator as g

    views = views_of_tables(tables, as_of=AS_OF)
    regions = pl.Enum(sorted(codes))
    enums = {"region_code": regions, "sex": pl.Enum(["F", "M"]), "marital_status": pl.Enum(list(g.MARITAL)),
             "employment_status": pl.Enum(list(EMPLOYMENT)), "student_status": pl.Enum(list(STUDENT)),
             "disability_type": pl.Enum(list(g.DISABILITY_TYPES))}

    def narrow(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns([pl.col(c).cast(t) for c, t in enums.items()]
                                  + [pl.col("disability_grade").cast(pl.Int8)])

    previous = narrow(views["previous"])
    person = narrow(views["person"]).with_columns(previous["income_monthly"].alias("previous__income_monthly"))
    household = views["household"].with_columns(pl.col("region_code").cast(regions),
                                                pl.col("housing_area_m2").cast(pl.Int16),
                                                pl.col("vehicles").cast(pl.Int8))
    return {"person": person, "household": household, "previous": previous}


EMPLOYMENT = ("employed", "unemployed", "retired", "none", "unknown")
STUDENT = ("preschool", "primary", "junior", "senior", "vocational", "university")


def generate(persons: int, out: Path, seed: int = SEED, pack: Path | None = None) -> dict[str, int]:
    """Write the city — the registry generator's (`tongban.registry.generator`), chunk by chunk,
    as the policy views — to `out/<view>/part-NNNNN.parquet`; returns row counts per view."""
    from tongban.registry import generator as g

    codes = communities(pack)
    config = g.CityConfig(persons=persons, seed=seed, communities=tuple(codes), as_of=AS_OF)
    counts = dict.fromkeys(VIEWS_FILES, 0)
    for view in VIEWS_FILES:
        (out / view).mkdir(parents=True, exist_ok=True)
    for index in range(config.chunks):
        frames = _frames(g.generate_chunk(config, index), codes)
        for view, frame in frames.items():
            frame.write_parquet(out / view / f"part-{index:05d}.parquet", compression="zstd")
            counts[view] += frame.height
    (out / "done.json").write_text(json.dumps(counts), encoding="utf-8")
    return counts


def city_dir(cache: Path, persons: int, seed: int = SEED) -> Path:
    return cache / f"city-{persons}-seed{seed}-v{CITY_FORMAT}"


def ensure_city(cache: Path, persons: int, seed: int = SEED) -> tuple[Path, dict[str, int]]:
    """The cached city, made in a child process (its memory is its own) when it is not there yet."""
    out = city_dir(cache, persons, seed)
    done = out / "done.json"
    if not done.is_file():
        code = ("import sys, json; from pathlib import Path; from tongban_bench.screen_city import generate; "
                f"generate({persons}, Path({str(out)!r}), {seed})")
        started = time.perf_counter()
        from tongban.core.cliutil import EXIT_FAILED, console, fail

        with console.status(f"generating a city of {persons:,} persons (once; kept in {out}) …"):
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            fail(f"city generation failed: {(proc.stderr or '').strip().splitlines()[-1:]}", EXIT_FAILED)
        console.print(f"[dim]city of {persons:,} persons generated in {time.perf_counter() - started:.0f} s[/]")
    counts: dict[str, int] = json.loads(done.read_text(encoding="utf-8"))
    return out, counts


# --- the timed evaluation (imported by screen_runner.py in a fresh process) -----------------------


def snapshot(folder: Path) -> Any:
    """The city's Parquet parts as the policy views (types as the views declare them)."""
    import polars as pl

    from tongban.policy.views import HOUSEHOLD, PERSON, PREVIOUS, Snapshot, polars_schema

    def scan(view: Any, *bound: str) -> pl.LazyFrame:
        """The view's columns as stored (Enum text and narrow integers are the compiler's to read)."""
        return pl.scan_parquet(folder / view.name / "*.parquet").select(*polars_schema(view), *bound)

    return Snapshot(person=scan(PERSON, "previous__income_monthly"), household=scan(HOUSEHOLD),
                    previous=scan(PREVIOUS))


def demo_policies(pack: Path | None = None) -> Any:
    from tongban.policy.parse import read_policy_files
    from tongban_bench.locations import demo_pack

    pack = pack or demo_pack()
    return read_policy_files(sorted((pack / "policies").glob("*.yaml")), base=pack)


def prepare(job: dict[str, Any]) -> dict[str, Any]:
    """Untimed: the demo pack's policies, parsed by the parent and handed over as JSON."""
    from tongban.policy.model import PolicySet

    return {"folder": Path(job["data"]), "policies": PolicySet.model_validate_json(Path(job["policies"]).read_bytes())}


def run(prepared: dict[str, Any]) -> dict[str, Any]:
    """Timed: one plan from Parquet to each policy's subjects, eligible and total monthly amount
    (`compile_polars.totals`: counted in the plan, no row per subject and policy)."""
    from tongban.policy.compile_polars import totals

    out = totals(prepared["policies"], snapshot(prepared["folder"]), as_of=AS_OF).collect()
    return {"policies": out.to_dicts()}


def bench(cache: Path, persons: int, *, runs: int) -> bool:
    """Time the demo policies over the cached city in fresh processes and print the table;
    whether the target was met."""
    import statistics

    from rich.table import Table

    from tongban.core.cliutil import console, progress
    from tongban_bench.screen import run_child

    folder, counts = ensure_city(cache, persons)
    variants = {"city_polars": "compile_polars"}
    samples: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory(prefix="tongban-city-") as tmp, progress() as bar:
        policies = Path(tmp) / "policies.json"
        policies.write_text(demo_policies().model_dump_json(), encoding="utf-8")
        task = bar.add_task(f"demo policies over {persons:,} persons", total=runs * len(variants))
        for i in range(runs):
            for engine in (list(variants) if i % 2 == 0 else list(variants)[::-1]):
                samples[engine].append(run_child({"engine": engine, "data": str(folder), "harness": "",
                                                  "out": "", "policies": str(policies)}))
                bar.advance(task)
    first = samples["city_polars"][0]["policies"]
    if any(s["policies"] != first for runs_of in samples.values() for s in runs_of):
        from tongban.core.cliutil import EXIT_FAILED, fail

        fail("the demo policies gave different results in different runs", EXIT_FAILED)
    table = Table(title=f"The demo pack's {len(first)} policies over {counts['person']:,} persons "
                        f"({counts['household']:,} households), Polars from Parquet, median of {runs} "
                        "fresh-process runs")
    for col in ("plan", "median s", "min–max s", "persons/s", "peak GiB"):
        table.add_column(col, justify="left" if col == "plan" else "right", no_wrap=True)
    verdicts = []
    met = True
    for engine, label in variants.items():
        secs = [s["seconds"] for s in samples[engine]]
        median, peak = statistics.median(secs), max(s["peak_kib"] for s in samples[engine]) / 2**20
        table.add_row(label, f"{median:.2f}", f"{min(secs):.1f}–{max(secs):.1f}",
                      f"{counts['person'] / median / 1e6:,.2f} M", f"{peak:.2f}")
        ok = median < CITY_TARGET_SECONDS and peak < CITY_TARGET_GIB
        met = met and ok
        verdicts.append(f"{label} " + ("[green]met[/]" if ok else "[red]missed[/]"))
    console.print(table)
    console.print(f"target: under {CITY_TARGET_SECONDS:.0f} s and {CITY_TARGET_GIB:.0f} GiB — " + "; ".join(verdicts))
    per = Table(title="Per policy (the same in every run)")
    for col in ("policy", "unit", "subjects", "eligible", "monthly amount, yuan"):
        per.add_column(col, justify="left" if col in ("policy", "unit") else "right")
    for row in first:
        amount = row["amount_fen"]
        per.add_row(row["policy"], row["unit"], f"{row['subjects']:,}", f"{row['eligible']:,}",
                    f"{amount / 100:,.0f}" if amount else "—")
    console.print(per)
    return met


CITY_TARGET_SECONDS, CITY_TARGET_GIB = 15.0, 4.0
