"""A screening run over views held as Parquet (`tongban screen --source parquet:DIR`), sized for a
city. The policies' compiled plan is never collected: it is sunk straight to the run's outcomes
file, written *wide* (a row per person: `person_id`, `household_id`, `region_code` and, per
policy, `<id>__eligible`, `<id>__criteria`, `<id>__amount`, `<id>__enrolled`), by Polars'
streaming engine. The counts per policy × community are then one streamed group-by over that
file, and only the eligible-but-not-enrolled cases are collected, one policy at a time, and
inserted in bulk (COPY on PostgreSQL, `executemany` in chunks elsewhere). `long_outcomes` reads
either layout as the long one (a row per policy × person), as registry runs write it.

Offers and risk alerts are made by registry runs: they need the person in the registry (an
account, an address, an explanation read through the exchange). A Parquet run counts the
monitoring rules' hits in its totals.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import bindparam, insert
from sqlalchemy.orm import Session

from tongban.core import access
from tongban.policy.compile_polars import col_amount, col_criteria, col_eligible
from tongban.screening.engine import Engine, PolicyInfo
from tongban.screening.models import ScreeningCase, ScreeningCount, ScreeningRun
from tongban.screening.pipeline import (
    col_enrolled,
    finish_run,
    households_in,
    previous_run,
    record_snapshot,
    start_run,
    with_enrolment,
)
from tongban.screening.source import ParquetSource, evaluate_lazy, manifest

CHUNK = 50_000
CASE_COLUMNS = ("run_id", "policy_id", "person_id", "region_code", "criteria", "amount_fen", "newly_eligible")
LONG_SCHEMA: dict[str, Any] = {"policy_id": pl.String, "person_id": pl.Int64, "eligible": pl.Boolean,
                               "criteria": pl.Int64, "amount_fen": pl.Int64, "region_code": pl.String,
                               "household_id": pl.Int64, "enrolled": pl.Boolean}


def source_label(source: ParquetSource) -> str:
    return f"parquet:{source.folder}"


def screen_parquet(session: Session, *, principal: access.Principal, var_dir: Path, req: Any, engine: Engine,
                   policies: dict[str, PolicyInfo], ids: list[str], source: ParquetSource, region: str | None,
                   as_of: dt.date, bases: dict[str, str], needed: set[tuple[str, str]],
                   tick: Callable[[str], None], hashes: dict[str, str]) -> ScreeningRun:
    from tongban.screening.runs import outcomes_path, snapshot_dir

    tick("snapshot")
    found = manifest(source)
    snapshot_id = found["snapshot_id"]
    folder = snapshot_dir(var_dir, snapshot_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(found, ensure_ascii=False, indent=1), encoding="utf-8")
    label = source_label(source)
    previous = previous_run(session, region=region, source=label)
    run = start_run(session, principal=principal, engine=engine, req=req, ids=ids, region=region, as_of=as_of,
                    snapshot_id=snapshot_id, source=label, previous=previous, policy_hashes=hashes)
    path = outcomes_path(var_dir, run.id)
    out_dir = path.parent
    try:
        tick("evaluate")  # the plan, sunk to the outcomes file: evaluation and outcomes in one streamed pass
        pset = engine.policy_set.subset(ids)  # type: ignore[attr-defined]
        # Every household whole; the rows of the region's persons kept after evaluating.
        prefix = access.region_prefix(region) if region else None
        wide = evaluate_lazy(pset, source, as_of=as_of, backend=req.backend, region_prefix=prefix)
        wide = with_enrolment(session, wide, {p: policies[p] for p in ids}, as_of, households_in(source.files["person"]))
        out_dir.mkdir(parents=True, exist_ok=True)
        write_outcomes(wide, ids, path)
        outcomes = pl.scan_parquet(path)
        subjects = int(outcomes.select(pl.len()).collect().item())
        record_snapshot(session, principal=principal, snapshot_id=snapshot_id, region=region, bases=bases,
                        needed=needed, as_of=as_of,
                        details={"source": label, "files": len(found["files"]), "subjects": subjects})

        tick("counts")
        program = [p for p in ids if policies[p].severity is None]
        rules = [p for p in ids if policies[p].severity is not None]
        insert_counts(session, run.id, count_rows(outcomes, program))
        hits = (outcomes.select([pl.col(col_eligible(r)).sum().cast(pl.Int64).alias(r) for r in rules]).collect()
                .row(0, named=True) if rules else {})

        tick("record")
        before = long_outcomes(outcomes_path(var_dir, previous.id)) if previous else None
        n_cases = 0
        for pid in program:  # one policy at a time: only its cases are ever in memory
            cases = case_frame(outcomes, pid, policies[pid], before)
            insert_cases(session, run.id, cases)
            n_cases += cases.height
            del cases
        finish_run(session, principal=principal, run=run,
                   totals={"subjects": subjects, "cases": n_cases, "offers": 0, "alerts": 0,
                           "rule_hits": {r: int(hits[r] or 0) for r in rules}})
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise
    return run


def write_outcomes(wide: pl.LazyFrame, ids: Sequence[str], path: Path) -> None:
    """The run's outcomes file, wide (a row per person), sunk from the lazy plan by the streaming
    engine: never the city in memory."""
    cols = [pl.col("id").cast(pl.Int64).alias("person_id"), pl.col("household_id").cast(pl.Int64),
            pl.col("region_code").cast(pl.String)]
    for pid in ids:
        cols += [pl.col(col_eligible(pid)).fill_null(False), pl.col(col_criteria(pid)).cast(pl.Int64),
                 pl.col(col_amount(pid)).cast(pl.Int64), pl.col(col_enrolled(pid))]
    wide.select(cols).sink_parquet(path, compression="zstd", engine="streaming")


def policies_of(schema: Iterable[str]) -> list[str]:
    """The policies of a wide outcomes file, in its column order."""
    return [c.removesuffix("__eligible") for c in schema if c.endswith("__eligible")]


def long_outcomes(path: Path) -> pl.LazyFrame:
    """An outcomes file (wide, or long as registry runs write it) as the long frame: a row per
    policy × person (`LONG_SCHEMA`)."""
    if not path.exists():
        return pl.LazyFrame(schema=LONG_SCHEMA)
    lf = pl.scan_parquet(path)
    names = lf.collect_schema().names()
    if "policy_id" in names:
        return lf
    parts = [lf.select(pl.lit(pid).alias("policy_id"), pl.col("person_id"),
                       pl.col(col_eligible(pid)).alias("eligible"), pl.col(col_criteria(pid)).alias("criteria"),
                       pl.col(col_amount(pid)).alias("amount_fen"), pl.col("region_code"), pl.col("household_id"),
                       pl.col(col_enrolled(pid)).alias("enrolled"))
             for pid in policies_of(names)]
    return pl.concat(parts) if parts else pl.LazyFrame(schema=LONG_SCHEMA)


def count_rows(outcomes: pl.LazyFrame, program: Sequence[str]) -> list[dict[str, Any]]:
    """Subjects, eligible, enrolled and eligible-not-enrolled per policy × community: one streamed
    group-by over the wide outcomes file for all the policies."""
    if not program:
        return []
    aggs: list[pl.Expr] = [pl.len().cast(pl.Int64).alias("__subjects")]
    for i, pid in enumerate(program):
        e, n = pl.col(col_eligible(pid)), pl.col(col_enrolled(pid))
        aggs += [e.sum().cast(pl.Int64).alias(f"e{i}"), n.sum().cast(pl.Int64).alias(f"n{i}"),
                 (e & ~n).sum().cast(pl.Int64).alias(f"x{i}")]
    grouped = (outcomes.drop_nulls("region_code").group_by("region_code").agg(aggs)
               .sort("region_code").collect(engine="streaming"))
    rows: list[dict[str, Any]] = []
    for i, pid in enumerate(program):
        rows += [{"policy_id": pid, "region_code": r["region_code"], "subjects": int(r["__subjects"]),
                  "eligible": int(r[f"e{i}"]), "enrolled": int(r[f"n{i}"]), "not_enrolled": int(r[f"x{i}"])}
                 for r in grouped.iter_rows(named=True)]
    return rows


def case_frame(outcomes: pl.LazyFrame, pid: str, info: PolicyInfo, before: pl.LazyFrame | None) -> pl.DataFrame:
    """The policy's cases: eligible and not enrolled; a household policy one case per household,
    for its first member (the lowest person id: a Parquet household view names no head). Newly
    eligible unless the previous run's outcomes had the person eligible."""
    found = (outcomes.filter(pl.col(col_eligible(pid)) & ~pl.col(col_enrolled(pid)))
             .select(pl.lit(pid).alias("policy_id"), "person_id", "region_code", "household_id",
                     pl.col(col_criteria(pid)).fill_null(0).alias("criteria"),
                     pl.col(col_amount(pid)).alias("amount_fen")))
    if info.unit == "household":
        found = pl.concat([found.filter(pl.col("household_id").is_null()),
                           found.filter(pl.col("household_id").is_not_null()).sort("person_id")
                           .unique("household_id", keep="first")])
    if before is None:
        found = found.with_columns(newly_eligible=pl.lit(True))
    else:
        earlier = (before.filter((pl.col("policy_id") == pid) & pl.col("eligible"))
                   .select(pl.col("person_id"), pl.lit(True).alias("_before")))
        found = (found.join(earlier, on="person_id", how="left")
                 .with_columns(newly_eligible=pl.col("_before").is_null()).drop("_before"))
    return (found.select("policy_id", "person_id", "region_code", "criteria", "amount_fen", "newly_eligible")
            .sort("person_id").collect())


def insert_counts(session: Session, run_id: int, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows, CHUNK):
        session.execute(insert(ScreeningCount), [{"run_id": run_id, **r} for r in chunk])


def insert_cases(session: Session, run_id: int, cases: pl.DataFrame) -> None:
    """COPY on PostgreSQL, `executemany` in chunks of 50,000 elsewhere: never one ORM object a row."""
    if cases.height == 0:
        return
    frame = cases.with_columns(pl.lit(run_id, dtype=pl.Int64).alias("run_id")).select(CASE_COLUMNS)
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        from sqlglot import exp

        table = exp.to_table(ScreeningCase.__tablename__).sql("postgres")
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(  # type: ignore[union-attr]
                f"COPY {table} ({', '.join(CASE_COLUMNS)}) FROM STDIN WITH (FORMAT csv)") as copy:
            for chunk in range(0, frame.height, 10 * CHUNK):  # CSV from Polars; an empty field is NULL
                copy.write(frame.slice(chunk, 10 * CHUNK).write_csv(include_header=False).encode())
        return
    if conn.dialect.name == "sqlite":  # the driver's executemany over plain tuples, in the statement's order
        compiled = insert(ScreeningCase).values(
            {c: bindparam(c) for c in CASE_COLUMNS}).compile(dialect=conn.dialect)
        order = list(compiled.positiontup or ())
        assert sorted(order) == sorted(CASE_COLUMNS)
        for chunk in range(0, frame.height, CHUNK):
            conn.exec_driver_sql(str(compiled), frame.slice(chunk, CHUNK).select(order).rows())
        return
    for chunk in range(0, frame.height, CHUNK):
        session.execute(insert(ScreeningCase), frame.slice(chunk, CHUNK).to_dicts())


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]
