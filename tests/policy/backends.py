"""Run one policy set over one population on every backend, for the differential tests."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
from sqlglot import exp

from tongban.policy import compile_sql, reference
from tongban.policy import model as m
from tongban.policy.evaluate import evaluate, evaluate_sql
from tongban.policy.views import HOUSEHOLD, PERSON, PREVIOUS, Snapshot, View

Outcomes = dict[tuple[str, int], tuple[bool, int, int | None]]


def snapshot(persons: list[dict[str, Any]], households: list[dict[str, Any]],
             previous: list[dict[str, Any]]) -> Snapshot:
    def frame(rows: list[dict[str, Any]], view: View) -> pl.DataFrame:
        from tongban.policy.views import polars_schema

        return pl.DataFrame(rows, schema=polars_schema(view), orient="row") if rows else pl.DataFrame(
            schema=polars_schema(view))

    return Snapshot.from_frames(frame(persons, PERSON), frame(households, HOUSEHOLD), frame(previous, PREVIOUS))


def as_outcomes(df: pl.DataFrame) -> Outcomes:
    return {(r["policy"], r["subject_id"]): (r["eligible"], r["criteria"], r["amount_fen"]) for r in df.to_dicts()}


def run_reference(policies: m.PolicySet, persons: list[dict[str, Any]], households: list[dict[str, Any]],
                  previous: list[dict[str, Any]], as_of: dt.date, region: str | None) -> Outcomes:
    ev = reference.Evaluator(policies, reference.Population.of(persons, households, previous), as_of)
    return {(p, s): (e, c, a) for p, s, e, c, a in ev.results(region)}


def postgres_url() -> str | None:
    url = os.environ.get("TONGBAN_TEST_DATABASE_URL", "")
    return url.replace("postgresql+psycopg://", "postgresql://") if url.startswith("postgres") else None


# PostgreSQL has no unsigned integers: a UInt32 column is stored as BIGINT.
PG_NARROW = {pl.Int8: "SMALLINT", pl.Int16: "SMALLINT", pl.Int32: "INTEGER", pl.UInt32: "BIGINT"}


class PostgresViews:
    """A scratch schema holding the view tables, refilled per example; `narrow` gives some
    columns a narrower type (view name → column → Polars type, as in tests/policy/edges.py)."""

    def __init__(self, url: str, narrow: dict[str, dict[str, pl.DataType]] | None = None) -> None:
        import psycopg

        self.SCHEMA = f"policy_scratch_{os.getpid()}{'_narrow' if narrow else ''}"
        self.conn = psycopg.connect(url, autocommit=True)
        self.conn.execute(f'DROP SCHEMA IF EXISTS "{self.SCHEMA}" CASCADE')  # noqa: S608 - our own name
        self.conn.execute(f'CREATE SCHEMA "{self.SCHEMA}"')
        for view in (PERSON, HOUSEHOLD, PREVIOUS):
            types = {n: (PG_NARROW[type((narrow or {}).get(view.name, {})[n])]
                         if n in (narrow or {}).get(view.name, {}) else compile_sql.SQL_TYPES[f.type])
                     for n, f in view.fields.items()}
            cols = [exp.ColumnDef(this=exp.to_identifier(n), kind=exp.DataType.build(types[n])) for n in view.fields]
            ddl = exp.Create(this=exp.Schema(this=exp.to_table(f"{self.SCHEMA}.{view.name}"), expressions=cols),
                             kind="TABLE")
            self.conn.execute(ddl.sql("postgres"))

    def load(self, persons: list[dict[str, Any]], households: list[dict[str, Any]],
             previous: list[dict[str, Any]]) -> None:
        for view, rows in ((PERSON, persons), (HOUSEHOLD, households), (PREVIOUS, previous)):
            table = exp.to_table(f"{self.SCHEMA}.{view.name}").sql("postgres")
            self.conn.execute(f"TRUNCATE {table}")  # noqa: S608 - our own name
            names = list(view.fields)
            with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row([r.get(n) for n in names])

    def evaluate(self, policies: m.PolicySet, as_of: dt.date, region: str | None) -> pl.DataFrame:
        return evaluate_sql(policies, self.conn, as_of=as_of, dialect="postgres",
                            sources=compile_sql.table_sources(self.SCHEMA), region=region)

    def close(self) -> None:
        self.conn.execute(f'DROP SCHEMA IF EXISTS "{self.SCHEMA}" CASCADE')  # noqa: S608 - our own name
        self.conn.close()


_NARROWER = [pl.Int8(), pl.Int16(), pl.Int32(), pl.UInt32()]
_RANGES = {pl.Int8: (-2**7, 2**7 - 1), pl.Int16: (-2**15, 2**15 - 1), pl.Int32: (-2**31, 2**31 - 1),
           pl.UInt32: (0, 2**32 - 1)}


def narrowest(df: pl.DataFrame) -> pl.DataFrame:
    """Each Int64 column in the narrowest integer type that holds its values (Int8/16/32, UInt32),
    as a registry export might store it."""
    casts: dict[str, pl.DataType] = {}
    for name, dtype in df.schema.items():
        if dtype != pl.Int64:
            continue
        lo, hi = df[name].min(), df[name].max()
        lo, hi = (0, 0) if lo is None else (lo, hi)
        casts[name] = next((t for t in _NARROWER if _RANGES[type(t)][0] <= lo and hi <= _RANGES[type(t)][1]  # type: ignore[operator]
                            ), pl.Int64())
    return df.cast(casts)  # type: ignore[arg-type]


def with_enum_regions(snap: Snapshot) -> Snapshot:
    """The snapshot with region codes held as an Enum (parameters looked up by category)."""
    regions = pl.Enum(sorted({r for lf in (snap.person, snap.household) for r in
                              lf.select(pl.col("region_code").cast(pl.String)).collect()["region_code"].to_list()
                              if r is not None} | {"330203001001"}))
    return Snapshot(person=snap.person.with_columns(pl.col("region_code").cast(regions)),
                    household=snap.household.with_columns(pl.col("region_code").cast(regions)),
                    previous=snap.previous)


def run_all(policies: m.PolicySet, persons: list[dict[str, Any]], households: list[dict[str, Any]],
            previous: list[dict[str, Any]], as_of: dt.date, region: str | None,
            pg: PostgresViews | None, *, narrow: Snapshot | None = None) -> dict[str, Outcomes]:
    """Outcomes by Polars, Polars with Enum regions, DuckDB and (when `pg`) PostgreSQL; with
    narrow integer columns too (Polars and DuckDB over Parquet), from `narrow` if given, else
    each column in its narrowest type."""
    snap = snapshot(persons, households, previous)
    if narrow is None:
        narrow = Snapshot(person=narrowest(snap.person.collect()).lazy(),
                          household=narrowest(snap.household.collect()).lazy(),
                          previous=narrowest(snap.previous.collect()).lazy() if snap.previous is not None else None)
    out = {"polars": as_outcomes(evaluate(policies, snap, as_of=as_of, region=region, backend="polars")),
           "polars-enum": as_outcomes(evaluate(policies, with_enum_regions(snap), as_of=as_of, region=region)),
           "polars-narrow": as_outcomes(evaluate(policies, narrow, as_of=as_of, region=region)),
           "duckdb": as_outcomes(evaluate(policies, snap, as_of=as_of, region=region, backend="duckdb"))}
    with tempfile.TemporaryDirectory(prefix="tongban-narrow-") as tmp:  # DuckDB reads the narrow Parquet as is
        narrow.person.collect().write_parquet(Path(tmp) / "person.parquet")
        narrow.household.collect().write_parquet(Path(tmp) / "household.parquet")
        if narrow.previous is not None:
            narrow.previous.collect().write_parquet(Path(tmp) / "previous.parquet")
        out["duckdb-narrow"] = as_outcomes(evaluate(policies, tmp, as_of=as_of, region=region, backend="duckdb"))
    if pg is not None:
        pg.load(persons, households, previous)
        out["postgres"] = as_outcomes(pg.evaluate(policies, as_of, region))
    return out
