"""The second part of `tongban bench screen`: the demo pack's policies over a synthetic city
of 10 million persons, read from Parquet, in under 15 seconds and 4 GiB.

The city is written straight in the policy views' schemas (`tongban.policy.views`): person,
household and previous, as Parquet parts under `<cache>/city-<persons>-seed<seed>/<view>/`. It is
vectorised NumPy, seeded, and made one chunk of households at a time, so making 10 million
persons holds only one chunk in memory. It is made once and kept. The registry's own generator
(`tongban.registry.generator`) makes the full registry with names and ID numbers; this one makes
only the facts a policy reads, fast enough to make a city of 10 million in about a minute.
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

import numpy as np
import numpy.typing as npt

CHUNK_PERSONS = 500_000
SEED = 11
CITY_FORMAT = 4  # 2: Enum text, narrow integers, previous income bound; 3: medical_out_of_pocket; 4: pack regions
AS_OF = dt.date(2026, 6, 30)
VIEWS_FILES = ("person", "household", "previous")

# Household size shares, 1 … 6 persons (7th national census, Zhejiang: 2.35 persons per household).
HOUSEHOLD_SIZE = np.array([0.30, 0.31, 0.19, 0.12, 0.05, 0.03])
DISABILITY_RATE = 0.063  # 2006 national sample survey
EMPLOYMENT = np.array(["employed", "unemployed", "retired", "none", "unknown"])


def _figures() -> dict[str, Any]:
    """The reference figures this city shares with the registry's generator, taken from it (one
    place for them); imported when a city is made, not by the timed runs."""
    from tongban.registry import generator as g

    age = g.AGE_WEIGHT
    return {"age": age, "adult_age": np.where(np.arange(101) >= 18, age, 0),
            "disability_types": np.array(g.DISABILITY_TYPES), "disability_shares": g.DISABILITY_SHARES,
            "disability_grades": g.DISABILITY_GRADES, "marital": np.array(g.MARITAL)}


def communities(pack: Path | None = None) -> list[str]:
    """The pack's community codes (12 digits), read by the registry generator through the pack
    loader — where the city's households live. Default: the checkout's demo pack."""
    from tongban.registry.generator import pack_communities
    from tongban_bench.locations import demo_pack

    codes = list(pack_communities(pack or demo_pack()))
    if not codes:
        raise ValueError(f"no communities in the pack {pack or demo_pack()}")
    return codes


def _choice(rng: np.random.Generator, values: npt.NDArray[Any], p: npt.NDArray[np.float64],
            n: int) -> npt.NDArray[Any]:
    return values[rng.choice(len(values), n, p=p / p.sum())]


def _chunk(rng: np.random.Generator, first_person: int, first_household: int, persons: int,
           codes: npt.NDArray[np.str_]) -> dict[str, dict[str, Any]]:
    """`persons` persons in whole households (the last one cut to fit), ids from the given firsts."""
    f = _figures()
    AGE_WEIGHT, ADULT_AGE_WEIGHT, MARITAL = f["age"], f["adult_age"], f["marital"]  # noqa: N806
    DISABILITY_TYPES, DISABILITY_SHARES, DISABILITY_GRADES = (  # noqa: N806
        f["disability_types"], f["disability_shares"], f["disability_grades"])
    sizes = rng.choice(np.arange(1, 7), persons // 2 + 2, p=HOUSEHOLD_SIZE / HOUSEHOLD_SIZE.sum())
    ends = np.cumsum(sizes)
    n_hh = int(np.searchsorted(ends, persons)) + 1
    sizes = sizes[:n_hh].copy()
    sizes[-1] -= int(ends[n_hh - 1]) - persons
    hh_local = np.repeat(np.arange(n_hh), sizes)
    pos = np.arange(persons) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    head = pos == 0

    age = np.where(head, rng.choice(101, persons, p=ADULT_AGE_WEIGHT / ADULT_AGE_WEIGHT.sum()),
                   rng.choice(101, persons, p=AGE_WEIGHT / AGE_WEIGHT.sum()))
    as_of = np.datetime64(AS_OF, "D")
    birth = as_of - (age * 365.25 + rng.random(persons) * 365).astype("timedelta64[D]")
    u = rng.random((6, persons))
    sex = np.where(u[0] < 0.51, "M", "F")
    alive = u[1] > 0.001
    marital = np.where(age < 20, "single", _choice(rng, MARITAL, np.array([0.18, 0.68, 0.06, 0.08]), persons))
    has_dis = u[2] < DISABILITY_RATE * np.where(age >= 60, 2.2, 0.6)
    grade = np.where(has_dis, rng.choice(4, persons, p=DISABILITY_GRADES) + 1, 0)
    dis_type = np.where(has_dis, _choice(rng, DISABILITY_TYPES, DISABILITY_SHARES, persons), "")
    working_age = (age >= 18) & (age < 60)
    employment = np.where(
        age < 16, "none",
        np.where(working_age, _choice(rng, EMPLOYMENT, np.array([0.74, 0.05, 0.0, 0.17, 0.04]), persons),
                 np.where(age >= 60, _choice(rng, EMPLOYMENT, np.array([0.08, 0.0, 0.72, 0.18, 0.02]), persons),
                          _choice(rng, EMPLOYMENT, np.array([0.2, 0.1, 0.0, 0.7, 0.0]), persons))))
    student = np.select(
        [(age >= 3) & (age < 6), (age >= 6) & (age < 12), (age >= 12) & (age < 15),
         (age >= 15) & (age < 18) & (u[3] < 0.6), (age >= 15) & (age < 18) & (u[3] < 0.95),
         (age >= 18) & (age < 23) & (employment != "employed") & (u[3] < 0.55)],
        ["preschool", "primary", "junior", "senior", "vocational", "university"], default="")
    income = np.where(employment == "employed", rng.lognormal(np.log(5_800), 0.6, persons),
                      np.where(employment == "retired", rng.lognormal(np.log(3_100), 0.45, persons),
                               np.where(u[4] < 0.15, rng.lognormal(np.log(900), 0.5, persons), 0)))
    income_fen = (np.rint(np.minimum(income, 300_000)) * 100).astype(np.int64)
    previous_fen = (np.rint(income_fen * rng.uniform(0.9, 1.1, persons) / 100) * 100).astype(np.int64)
    lost = (employment == "employed") & (u[5] < 0.05)  # lost their job since the previous snapshot
    income_fen[lost] = 0
    employment = np.where(lost, "unemployed", employment)
    assets_p = np.where(rng.random(persons) < 0.35, 0,
                        np.rint(rng.lognormal(np.log(40_000), 1.2, persons)).clip(0, 20_000_000) * 100).astype(np.int64)

    # Out-of-pocket medical costs over 12 months (医保结算 个人负担): most small, a few large bills.
    ill = rng.random(persons) < np.where(age >= 60, 0.06, 0.015)
    medical_fen = np.where(ill, np.rint(rng.lognormal(np.log(9_000), 1.0, persons)).clip(0, 2_000_000) * 100,
                           np.rint(rng.lognormal(np.log(600), 0.8, persons)) * 100).astype(np.int64)

    region = codes[rng.integers(0, len(codes), n_hh)]
    person_region = region[hh_local]
    moved = rng.random(persons) < 0.18
    hukou = np.where(moved, codes[rng.integers(0, len(codes), persons)], person_region)
    area = np.clip(np.rint(rng.lognormal(np.log(30 * sizes.astype(float) ** 0.8), 0.45)), 8, 1_000).astype(np.int64)
    vehicles = rng.choice(3, n_hh, p=[0.55, 0.38, 0.07]).astype(np.int64)
    assets_h = np.where(rng.random(n_hh) < 0.12, 0,
                        np.rint(rng.lognormal(np.log(150_000), 1.1, n_hh)).clip(0, 50_000_000) * 100).astype(np.int64)

    person = {
        "id": np.arange(first_person, first_person + persons, dtype=np.int64),
        "household_id": (hh_local + first_household).astype(np.int64),
        "birth_date": birth, "sex": sex, "region_code": person_region, "hukou_region_code": hukou,
        "alive": alive, "marital_status": marital, "disability_type": dis_type,
        "disability_grade": np.where(has_dis, grade, -1), "employment_status": employment,
        "student_status": student, "is_student": student != "", "income_monthly": income_fen, "assets": assets_p,
        "medical_out_of_pocket": medical_fen,
    }
    household = {"id": np.arange(first_household, first_household + n_hh, dtype=np.int64), "region_code": region,
                 "housing_area_m2": area, "vehicles": vehicles, "assets": assets_h}
    return {"person": person, "household": household, "previous_income": {"income_monthly": previous_fen}}


STUDENT = ("preschool", "primary", "junior", "senior", "vocational", "university")


def _frames(parts: dict[str, dict[str, Any]], codes: npt.NDArray[np.str_]) -> dict[str, Any]:
    """The chunk as the views' frames. Text with a known set of values is stored as an Enum and
    small integers narrow (as a registry export would), the region codes as an Enum of the
    communities; the previous snapshot's income is bound on the person row as
    `previous__income_monthly` (docs/policy.md), and the full previous view is written too."""
    import polars as pl

    f = _figures()
    MARITAL, DISABILITY_TYPES = f["marital"], f["disability_types"]  # noqa: N806
    regions = pl.Enum(sorted(codes.tolist()))
    enums = {"region_code": regions, "hukou_region_code": regions, "sex": pl.Enum(["F", "M"]),
             "marital_status": pl.Enum(MARITAL.tolist()), "employment_status": pl.Enum(EMPLOYMENT.tolist()),
             "student_status": pl.Enum(list(STUDENT)), "disability_type": pl.Enum(DISABILITY_TYPES.tolist())}
    p = parts["person"]
    person = pl.DataFrame(p).with_columns(
        pl.col("birth_date").cast(pl.Date),
        pl.when(pl.col("disability_grade") > 0).then(pl.col("disability_grade")).cast(pl.Int8).alias("disability_grade"),
        *[pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in ("student_status", "disability_type")],
    ).with_columns([pl.col(c).cast(t) for c, t in enums.items()])
    previous_income = pl.Series("income_monthly", parts["previous_income"]["income_monthly"])
    previous = person.with_columns(previous_income)
    person = person.with_columns(previous_income.alias("previous__income_monthly"))
    household = pl.DataFrame(parts["household"]).with_columns(
        pl.col("region_code").cast(regions), pl.col("housing_area_m2").cast(pl.Int16), pl.col("vehicles").cast(pl.Int8))
    return {"person": person, "household": household, "previous": previous}


def generate(persons: int, out: Path, seed: int = SEED, pack: Path | None = None,
             chunk: int = CHUNK_PERSONS) -> dict[str, int]:
    """Write the city to `out/<view>/part-NNNNN.parquet`; returns row counts per view."""
    codes = np.array(communities(pack))
    counts = dict.fromkeys(VIEWS_FILES, 0)
    for view in VIEWS_FILES:
        (out / view).mkdir(parents=True, exist_ok=True)
    first_person = first_household = 0
    for index in range((persons + chunk - 1) // chunk):
        rng = np.random.default_rng([seed, index])
        n = min(chunk, persons - first_person)
        frames = _frames(_chunk(rng, first_person, first_household, n, codes), codes)
        for view, frame in frames.items():
            frame.write_parquet(out / view / f"part-{index:05d}.parquet", compression="zstd")
            counts[view] += frame.height
        first_person += n
        first_household += frames["household"].height
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
