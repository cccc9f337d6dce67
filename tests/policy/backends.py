"""Run one policy set over one population on every backend, for the differential tests."""

from __future__ import annotations

import datetime as dt
import os
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


class PostgresViews:
    """A scratch schema holding the view tables, refilled per example."""

    SCHEMA = f"policy_scratch_{os.getpid()}"

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)
        self.conn.execute(f'DROP SCHEMA IF EXISTS "{self.SCHEMA}" CASCADE')  # noqa: S608 - our own name
        self.conn.execute(f'CREATE SCHEMA "{self.SCHEMA}"')
        for view in (PERSON, HOUSEHOLD, PREVIOUS):
            cols = [exp.ColumnDef(this=exp.to_identifier(n), kind=exp.DataType.build(compile_sql.SQL_TYPES[f.type]))
                    for n, f in view.fields.items()]
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


def run_all(policies: m.PolicySet, persons: list[dict[str, Any]], households: list[dict[str, Any]],
            previous: list[dict[str, Any]], as_of: dt.date, region: str | None,
            pg: PostgresViews | None) -> dict[str, Outcomes]:
    snap = snapshot(persons, households, previous)
    out = {"polars": as_outcomes(evaluate(policies, snap, as_of=as_of, region=region, backend="polars")),
           "duckdb": as_outcomes(evaluate(policies, snap, as_of=as_of, region=region, backend="duckdb"))}
    if pg is not None:
        pg.load(persons, households, previous)
        out["postgres"] = as_outcomes(pg.evaluate(policies, as_of, region))
    return out
