"""The one outcome writer of a screening run, whatever its source (the registry's audited snapshot,
or views held as Parquet): both sources hand it the same *wide* frame, a row per person of the
whole households read (`id`, `household_id`, `region_code` and, per policy, `<id>__eligible`,
`<id>__criteria`, `<id>__amount`, `<id>__enrolled`), and it writes the same things the same way:

1. the run's outcomes file, wide, only the rows of the run's region, sunk from the lazy frame by
   Polars' streaming engine (never the city in memory); `long_outcomes` reads it as the long
   frame (a row per policy × person), as it reads the long files older registry runs wrote;
2. subjects, eligible, enrolled and eligible-not-enrolled per policy × community, one streamed
   group-by over that file;
3. the cases, eligible and not enrolled, one policy at a time, inserted in bulk (COPY on
   PostgreSQL, `executemany` in chunks elsewhere). A household policy is one case per household:
   **its head** when the head is among the household's cases, else its member with the lowest
   person id (the head lives out of the region, is not eligible, or the source names no head).
   Where the head comes from is the source's: the registry's `household.head_person_id`, or a
   Parquet household view's optional `head_person_id` column;
4. offers for the cases whose policy says how to apply and whose person is in the registry (an
   offer is made to a registered person: their account, or a visit at their address);
5. the monitoring rules' hits counted in the totals, and risk alerts raised for them when the
   run holds a snapshot folder to explain them from (registry runs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from tongban.policy.compile_polars import col_amount, col_criteria, col_eligible
from tongban.screening.engine import Engine, PolicyInfo
from tongban.screening.models import ScreeningCase, ScreeningCount, ScreeningRun
from tongban.screening.pipeline import col_enrolled, in_region

CHUNK = 50_000
CASE_COLUMNS = ("run_id", "policy_id", "person_id", "region_code", "criteria", "amount_fen", "newly_eligible")
LONG_SCHEMA: dict[str, Any] = {"policy_id": pl.String, "person_id": pl.Int64, "eligible": pl.Boolean,
                               "criteria": pl.Int64, "amount_fen": pl.Int64, "region_code": pl.String,
                               "household_id": pl.Int64, "enrolled": pl.Boolean}
HEADS_SCHEMA: dict[str, Any] = {"household_id": pl.Int64, "head_person_id": pl.Int64}

# household ids → a frame of (household_id, head_person_id) for those that name a head
HeadsOf = Callable[[list[int]], pl.DataFrame]


def no_heads(_household_ids: list[int]) -> pl.DataFrame:
    return pl.DataFrame(schema=HEADS_SCHEMA)


def record(session: Session, *, run: ScreeningRun, wide: pl.LazyFrame, ids: Sequence[str],
           policies: dict[str, PolicyInfo], path: Path, previous_path: Path | None, heads_of: HeadsOf,
           make_offers: bool, engine: Engine | None = None, alerts_folder: Path | None = None,
           tick: Callable[[str], None] = lambda _step: None) -> dict[str, Any]:
    """Write a run's outcomes, counts, cases, offers and alerts (see the module docstring);
    return its totals. `wide` covers whole households; only the rows of `run.region_code` are
    written. The caller's unit of work holds the rows; the caller removes `path` on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_outcomes(wide.filter(in_region(run.region_code)), ids, path)
    outcomes = pl.scan_parquet(path)
    subjects = int(outcomes.select(pl.len()).collect().item())

    tick("counts")
    program = [p for p in ids if policies[p].severity is None]
    rules = [p for p in ids if policies[p].severity is not None]
    insert_counts(session, run.id, count_rows(outcomes, program))
    hits = (outcomes.select([pl.col(col_eligible(r)).sum().cast(pl.Int64).alias(r) for r in rules]).collect()
            .row(0, named=True) if rules else {})

    tick("record")
    before = long_outcomes(previous_path) if previous_path is not None else None
    n_cases = 0
    for pid in program:  # one policy at a time: only its cases are ever in memory
        cases = case_frame(outcomes, pid, policies[pid], before, heads_of)
        insert_cases(session, run.id, cases)
        n_cases += cases.height
        del cases
    totals: dict[str, Any] = {"subjects": subjects, "cases": n_cases, "offers": 0, "alerts": 0,
                              "rule_hits": {r: int(hits[r] or 0) for r in rules}}
    if make_offers:
        from tongban.screening import offers

        offerable = [p for p in program if offers.apply_target(policies[p].apply_via)]
        made = list(session.scalars(select(ScreeningCase).where(
            ScreeningCase.run_id == run.id, ScreeningCase.policy_id.in_(offerable))
            .order_by(ScreeningCase.policy_id, ScreeningCase.person_id))) if offerable else []
        totals["offers"] = offers.make_offers(session, run=run, cases=made, policies=policies)
    if rules and alerts_folder is not None and engine is not None:
        from tongban.screening import alerts

        found = long_outcomes(path).filter(pl.col("policy_id").is_in(rules) & pl.col("eligible")).collect()
        totals["alerts"] = alerts.raise_alerts(session, run=run, hits=found, policies=policies, engine=engine,
                                               folder=alerts_folder)
    return totals


def write_outcomes(wide: pl.LazyFrame, ids: Sequence[str], path: Path) -> None:
    """The run's outcomes file, wide (a row per person), sunk from the lazy plan by the streaming
    engine: never the city in memory."""
    cols = [pl.col("id").cast(pl.Int64).alias("person_id"), pl.col("household_id").cast(pl.Int64),
            pl.col("region_code").cast(pl.String)]
    for pid in ids:
        cols += [pl.col(col_eligible(pid)).fill_null(False), pl.col(col_criteria(pid)).cast(pl.Int64),
                 pl.col(col_amount(pid)).cast(pl.Int64), pl.col(col_enrolled(pid)).fill_null(False)]
    wide.select(cols).sink_parquet(path, compression="zstd", engine="streaming")


def policies_of(schema: Iterable[str]) -> list[str]:
    """The policies of a wide outcomes file, in its column order."""
    return [c.removesuffix("__eligible") for c in schema if c.endswith("__eligible")]


def long_outcomes(path: Path) -> pl.LazyFrame:
    """An outcomes file (wide, or long as older registry runs wrote it) as the long frame: a row
    per policy × person (`LONG_SCHEMA`)."""
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


def case_frame(outcomes: pl.LazyFrame, pid: str, info: PolicyInfo, before: pl.LazyFrame | None,
               heads_of: HeadsOf = no_heads) -> pl.DataFrame:
    """The policy's cases: eligible and not enrolled; a household policy one case per household,
    for its head when the head is among them, else for its member with the lowest person id.
    Newly eligible unless the previous run's outcomes had the person eligible."""
    found = (outcomes.filter(pl.col(col_eligible(pid)) & ~pl.col(col_enrolled(pid)))
             .select(pl.lit(pid).alias("policy_id"), "person_id", "region_code", "household_id",
                     pl.col(col_criteria(pid)).fill_null(0).alias("criteria"),
                     pl.col(col_amount(pid)).alias("amount_fen")))
    if info.unit == "household":
        members = found.filter(pl.col("household_id").is_not_null()).collect()
        households = sorted({int(h) for h in members["household_id"].unique().to_list()})
        heads = heads_of(households).select([pl.col(c).cast(t) for c, t in HEADS_SCHEMA.items()]) \
            if households else pl.DataFrame(schema=HEADS_SCHEMA)
        one = (members.join(heads, on="household_id", how="left")
               .with_columns(_rank=pl.when(pl.col("person_id") == pl.col("head_person_id")).then(0).otherwise(1))
               .sort("household_id", "_rank", "person_id").group_by("household_id", maintain_order=True).first()
               .select(members.columns))
        found = pl.concat([found.filter(pl.col("household_id").is_null()), one.lazy()])
    if before is None:
        found = found.with_columns(newly_eligible=pl.lit(True))
    else:
        earlier = (before.filter((pl.col("policy_id") == pid) & pl.col("eligible"))
                   .select(pl.col("person_id"), pl.lit(True).alias("_before")).unique("person_id"))
        found = (found.join(earlier, on="person_id", how="left")
                 .with_columns(newly_eligible=pl.col("_before").is_null()).drop("_before"))
    return (found.select("policy_id", "person_id", "region_code", "criteria", "amount_fen", "newly_eligible")
            .sort("person_id").collect())


def insert_counts(session: Session, run_id: int, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        session.execute(insert(ScreeningCount), [{"run_id": run_id, **r} for r in rows[i:i + CHUNK]])


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
