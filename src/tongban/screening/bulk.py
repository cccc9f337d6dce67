"""A screening run over views held as Parquet (`tongban screen --source parquet:DIR`), sized for a
city: the policies are evaluated once into a wide frame (a row per person), the per-person
outcomes are streamed to Parquet, and the database gets only the counts per policy × community
and the eligible-but-not-enrolled cases, inserted in bulk (COPY on PostgreSQL, `executemany` in
chunks elsewhere).

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
from sqlalchemy import bindparam, insert, or_, select
from sqlalchemy.orm import Session

from tongban.core import access
from tongban.core.audit.log import record
from tongban.core.packs.loader import current_pack_version
from tongban.core.timeutil import utcnow
from tongban.policy.compile_polars import col_amount, col_criteria, col_eligible
from tongban.registry.models import BenefitEnrolment
from tongban.screening.engine import Engine, PolicyInfo
from tongban.screening.models import ScreeningCase, ScreeningCount, ScreeningRun
from tongban.screening.source import ParquetSource, evaluate_wide, manifest

CHUNK = 50_000
CASE_COLUMNS = ("run_id", "policy_id", "person_id", "region_code", "criteria", "amount_fen", "newly_eligible")


def source_label(source: ParquetSource) -> str:
    return f"parquet:{source.folder}"


def screen_parquet(session: Session, *, principal: access.Principal, var_dir: Path, req: Any, engine: Engine,
                   policies: dict[str, PolicyInfo], ids: list[str], source: ParquetSource, region: str | None,
                   as_of: dt.date, bases: dict[str, str], needed: set[tuple[str, str]],
                   tick: Callable[[str], None]) -> ScreeningRun:
    from tongban.screening.runs import outcomes_path, snapshot_dir

    tick("snapshot")
    found = manifest(source)
    snapshot_id = found["snapshot_id"]
    folder = snapshot_dir(var_dir, snapshot_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(found, ensure_ascii=False, indent=1), encoding="utf-8")
    label = source_label(source)
    previous = session.scalars(select(ScreeningRun).where(
        ScreeningRun.status == "done", ScreeningRun.source == label,
        ScreeningRun.region_code.is_(None) if region is None else ScreeningRun.region_code == region)
        .order_by(ScreeningRun.id.desc()).limit(1)).first()
    pack = current_pack_version(session)
    run = ScreeningRun(status="running", as_of=as_of, backend=req.backend, region_code=region, policy_ids=ids,
                       pack_id=pack[0] if pack else None, pack_version=pack[1] if pack else None,
                       parameters=engine.parameters_in_force(session, as_of=as_of), snapshot_id=snapshot_id,
                       source=label, previous_run_id=previous.id if previous else None, totals={},
                       started_by=principal.actor, department_id=principal.department_id, started_at=utcnow())
    session.add(run)
    session.flush()
    out_dir = outcomes_path(var_dir, run.id).parent
    try:
        tick("evaluate")
        pset = engine.policy_set.subset(ids)  # type: ignore[attr-defined]
        prefix = access.region_prefix(region) if region else None
        wide = evaluate_wide(pset, source, as_of=as_of, backend=req.backend, region_prefix=prefix)
        wide = _with_enrolment(session, wide, {p: policies[p] for p in ids}, as_of)
        record(session, actor=principal.actor, actor_department=principal.department_id,
               action="screening.snapshot", subject=f"snapshot:{snapshot_id}", region_code=region,
               purpose="应享尽享主动筛查 (proactive entitlement screening)",
               details={"source": label, "files": len(found["files"]), "datasets": sorted(bases), "basis": bases,
                        "fields": sorted(f"{d}:{n}" for d, n in needed), "as_of": as_of.isoformat(),
                        "subjects": wide.height})

        tick("outcomes")
        path = outcomes_path(var_dir, run.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_outcomes(wide, ids, path)

        tick("record")
        program = [p for p in ids if policies[p].severity is None]
        rules = [p for p in ids if policies[p].severity is not None]
        insert_counts(session, run.id, count_rows(wide, program))
        previously = _previously_eligible(outcomes_path(var_dir, previous.id) if previous else None, program)
        n_cases = 0
        for pid in program:  # one policy at a time: only its cases are in memory beside the wide frame
            cases = case_frame(wide, {pid: policies[pid]}, previously.filter(pl.col("policy_id") == pid))
            insert_cases(session, run.id, cases)
            n_cases += cases.height
            del cases
        totals: dict[str, Any] = {
            "subjects": wide.height, "cases": n_cases, "offers": 0, "alerts": 0,
            "rule_hits": {r: int(wide[col_eligible(r)].sum()) for r in rules}}
        run.totals = totals
        run.status = "done"
        run.finished_at = utcnow()
        record(session, actor=principal.actor, actor_department=principal.department_id, action="screening.run",
               subject=f"screening_run:{run.id}", region_code=region,
               details={"policies": ids, "backend": req.backend, "as_of": as_of.isoformat(), "source": label,
                        "snapshot": snapshot_id, "pack_version": run.pack_version, "subjects": wide.height,
                        "cases": n_cases})
        session.flush()
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise
    return run


def _with_enrolment(session: Session, wide: pl.DataFrame, policies: dict[str, PolicyInfo],
                    as_of: dt.date) -> pl.DataFrame:
    """`<policy>__enrolled`: the person (or, for a household policy, anyone in the household or
    the household itself) holds the policy's benefit on the as-of date."""
    codes = sorted({p.benefit for p in policies.values() if p.benefit})
    held: dict[tuple[str, str], list[int]] = {}
    if codes:
        for kind, code, sid in session.execute(select(
                BenefitEnrolment.subject_kind, BenefitEnrolment.benefit_code, BenefitEnrolment.subject_id).where(
                BenefitEnrolment.benefit_code.in_(codes), BenefitEnrolment.start_date <= as_of,
                or_(BenefitEnrolment.end_date.is_(None), BenefitEnrolment.end_date >= as_of))):
            held.setdefault((code, kind), []).append(int(sid))
    cols = []
    for pid, info in policies.items():
        persons = pl.Series(held.get((info.benefit or "", "person"), []), dtype=pl.Int64)
        households = pl.Series(held.get((info.benefit or "", "household"), []), dtype=pl.Int64)
        mine = pl.col("id").is_in(persons.implode()) | pl.col("household_id").is_in(households.implode()).fill_null(False)
        if info.unit == "household":
            mine = pl.when(pl.col("household_id").is_null()).then(mine).otherwise(mine.any().over("household_id"))
        cols.append(mine.alias(f"{pid}__enrolled"))
    return wide.with_columns(cols)


def _policy_frame(wide: pl.LazyFrame, pid: str) -> pl.LazyFrame:
    return wide.select(pl.lit(pid).alias("policy_id"), pl.col("id").cast(pl.Int64).alias("person_id"),
                       pl.col(col_eligible(pid)).fill_null(False).alias("eligible"),
                       pl.col(col_criteria(pid)).cast(pl.Int64).alias("criteria"),
                       pl.col(col_amount(pid)).cast(pl.Int64).alias("amount_fen"),
                       pl.col("region_code").cast(pl.String), pl.col("household_id").cast(pl.Int64),
                       pl.col(f"{pid}__enrolled").alias("enrolled"))


def write_outcomes(wide: pl.DataFrame, ids: Sequence[str], path: Path) -> None:
    """One row per policy × person (the run's outcomes file), streamed: never all in memory."""
    if not ids:
        pl.DataFrame(schema={"policy_id": pl.String, "person_id": pl.Int64, "eligible": pl.Boolean,
                             "criteria": pl.Int64, "amount_fen": pl.Int64, "region_code": pl.String,
                             "household_id": pl.Int64, "enrolled": pl.Boolean}).write_parquet(path)
        return
    lazy = wide.lazy()
    pl.concat([_policy_frame(lazy, pid) for pid in ids]).sink_parquet(path, compression="zstd")


def count_rows(wide: pl.DataFrame, program: Sequence[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for pid in program:
        e, n = pl.col(col_eligible(pid)).fill_null(False), pl.col(f"{pid}__enrolled")
        grouped = wide.group_by("region_code").agg(subjects=pl.len(), eligible=e.sum(), enrolled=n.sum(),
                                                   not_enrolled=(e & ~n).sum()).drop_nulls("region_code")
        rows += [{"policy_id": pid, **{k: (int(v) if k != "region_code" else v) for k, v in r.items()}}
                 for r in grouped.sort("region_code").iter_rows(named=True)]
    return rows


def _previously_eligible(path: Path | None, program: Sequence[str]) -> pl.DataFrame:
    schema = {"policy_id": pl.String, "person_id": pl.Int64}
    if path is None or not path.exists():
        return pl.DataFrame(schema=schema)
    return (pl.scan_parquet(path).filter(pl.col("eligible") & pl.col("policy_id").is_in(list(program)))
            .select(list(schema)).collect())


def case_frame(wide: pl.DataFrame, policies: dict[str, PolicyInfo], previously: pl.DataFrame) -> pl.DataFrame:
    """Eligible and not enrolled; a household policy one case per household, for its first member
    (the lowest person id: a Parquet household view names no head)."""
    parts = []
    for pid, info in policies.items():
        # filter the wide frame first: only the cases' rows are ever projected
        found = _policy_frame(wide.lazy().filter(pl.col(col_eligible(pid)).fill_null(False)
                                                 & ~pl.col(f"{pid}__enrolled")), pid)
        if info.unit == "household":
            found = pl.concat([found.filter(pl.col("household_id").is_null()),
                               found.filter(pl.col("household_id").is_not_null()).sort("person_id")
                               .unique("household_id", keep="first")])
        parts.append(found.select("policy_id", "person_id", "region_code", "criteria", "amount_fen"))
    if not parts:
        return pl.DataFrame(schema={"policy_id": pl.String, "person_id": pl.Int64, "region_code": pl.String,
                                    "criteria": pl.Int64, "amount_fen": pl.Int64, "newly_eligible": pl.Boolean})
    before = previously.lazy().with_columns(_before=pl.lit(True))
    return (pl.concat(parts).join(before, on=["policy_id", "person_id"], how="left")
            .with_columns(newly_eligible=pl.col("_before").is_null(), criteria=pl.col("criteria").fill_null(0))
            .drop("_before").sort("policy_id", "person_id").collect())


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
