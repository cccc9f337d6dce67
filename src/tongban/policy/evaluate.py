"""Evaluate a policy set over a view snapshot for an as-of date and a region.

Backends: `polars` (the embedded default), `duckdb` (the compiled SQL run by DuckDB over the
Parquet files or frames) and `postgres`/any SQL connection (the compiled SQL run where the
tables are). Reading the registry database in place goes through `evaluate_registry`: a
grant-checked exchange read that writes its audit event. Every backend returns the same
long result: per policy and subject, eligible, the criteria bitmap and the amount in fen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import polars as pl
from sqlalchemy.orm import Session
from sqlglot import exp

from tongban.core.access import Denied, Principal, require
from tongban.core.audit.log import record
from tongban.core.errors import Invalid
from tongban.core.i18n import N_
from tongban.policy import compile_polars, compile_sql
from tongban.policy import model as m
from tongban.policy.views import (
    COMPUTED_PERSON_FIELDS,
    HOUSEHOLD,
    PERSON,
    Snapshot,
    check_range,
    check_snapshot,
    registry_snapshot,
    registry_sql_sources,
)

Backend = Literal["polars", "duckdb", "postgres"]
BACKENDS: tuple[str, ...] = ("polars", "duckdb", "postgres")

RESULT_SCHEMA = {"policy": pl.String, "unit": pl.String, "subject_id": pl.Int64, "eligible": pl.Boolean,
                 "criteria": pl.Int64, "amount_fen": pl.Int64}

_WIDE_VIEW_COLUMNS = ["id", "household_id", "region_code", "household__region_code"]


def wide_schema(policies: m.PolicySet) -> dict[str, pl.DataType]:
    """The types of a compiled SQL answer's columns (its keys, regions and each policy's outcome)."""
    out: dict[str, pl.DataType] = {"id": pl.Int64(), "household_id": pl.Int64(), "region_code": pl.String(),
                                   "household__region_code": pl.String()}
    for p in policies.policies:
        out[compile_polars.col_eligible(p.id)] = pl.Boolean()
        out[compile_polars.col_criteria(p.id)] = pl.Int64()
        out[compile_polars.col_amount(p.id)] = pl.Int64()
    return out


def finish(policies: m.PolicySet, wide: pl.LazyFrame, region: str | None) -> pl.DataFrame:
    """The long result (RESULT_SCHEMA, sorted) of a wide answer, kept to `region`."""
    res = compile_polars.results(policies, wide, region=region).collect()
    return res.cast(RESULT_SCHEMA).sort(["policy", "subject_id"])  # type: ignore[arg-type]


def check_ranges(labels: list[str], row: Any) -> None:
    """Refuse the answer of `compile_sql.range_query` if a column lies beyond ±VALUE_LIMIT."""
    values = list(row or [])
    for i in range(0, len(labels), 2):
        check_range(labels[i], values[i], values[i + 1])


def check_as_of(as_of: dt.date | dt.datetime) -> dt.date:
    """A date as is; a datetime as its calendar date in Asia/Shanghai."""
    if isinstance(as_of, dt.datetime):
        from tongban.core.clock import local_date

        if as_of.tzinfo is None:
            raise Invalid(N_("The as-of time needs a time zone"), field="as_of")
        return local_date(as_of)
    return as_of


def check_region(region: str | None) -> str | None:
    if region is not None and not (region.isdigit() and 2 <= len(region) <= 12):
        raise Invalid(N_("A region is a division code of 2 to 12 digits"), field="region")
    return region or None


def previous_read(policies: m.PolicySet) -> set[str]:
    """The `previous.` fields the policies read."""
    return {n.name for p in policies.policies
            for e in [c.expr for c in p.criteria] + ([p.amount] if p.amount is not None else [])
            for n in m.walk(e) if isinstance(n, m.FieldRef) and n.scope == "previous"}


def bind_previous(policies: m.PolicySet, snap: Snapshot) -> Snapshot:
    """The snapshot with the `previous.` fields the policies read already on the person rows, as
    `previous__<field>` (the plans bind such columns and join nothing): a left join that keeps the
    previous row's id, so `previous.id` is null for a person absent from the previous snapshot."""
    read = previous_read(policies)
    if not read or snap.previous is None:
        return snap
    prev = snap.previous.select([pl.col("id").alias("previous__id")]
                                + [pl.col(n).alias(f"previous__{n}") for n in sorted(read - {"id"})])
    person = snap.person.join(prev, left_on="id", right_on="previous__id", how="left", coalesce=False)
    return Snapshot(person=person, household=snap.household, previous=None)


def evaluate(policies: m.PolicySet, snapshot: Snapshot | str | Path, *, as_of: dt.date | dt.datetime,
             region: str | None = None, backend: Backend = "polars") -> pl.DataFrame:
    """Outcomes of every policy for every subject in `region` (None: everywhere).

    `snapshot` is a Snapshot or a folder of Parquet files. Backends: polars, duckdb."""
    day, region = check_as_of(as_of), check_region(region)
    folder = Path(snapshot) if isinstance(snapshot, str | Path) else None
    snap = Snapshot.from_parquet(folder) if folder is not None else snapshot
    assert isinstance(snap, Snapshot)
    check_snapshot(policies, snap)  # the same refusal on every backend, before computing
    if backend == "polars":
        # Person policies from the person rows, household policies from the household rows, one plan.
        res = compile_polars.outcomes(policies, bind_previous(policies, snap), as_of=day, region=region).collect()
        return res.cast(RESULT_SCHEMA).sort(["policy", "subject_id"])  # type: ignore[arg-type]
    if backend == "duckdb":
        import tempfile

        with tempfile.TemporaryDirectory(prefix="tongban-policy-") as tmp:
            if folder is None:
                assert isinstance(snapshot, Snapshot)
                snapshot.write_parquet(tmp)
                folder = Path(tmp)
            sources = compile_sql.parquet_sources(str(folder), previous=(folder / "previous.parquet").exists())
            sql = compile_sql.to_sql(policies, as_of=day, dialect="duckdb", sources=sources,
                                     columns=_WIDE_VIEW_COLUMNS)
            wide = duckdb_frame(sql)
        return finish(policies, wide.cast(wide_schema(policies)).lazy(), region)  # type: ignore[arg-type]
    raise Invalid(N_("Unknown backend"), field="backend")


def duckdb_frame(sql: str) -> pl.DataFrame:
    """Run a DuckDB query and read its answer as a Polars frame. The two meet in a Parquet file
    (no Arrow dependency needed)."""
    import tempfile

    import duckdb

    with tempfile.TemporaryDirectory(prefix="tongban-duckdb-") as tmp:
        out = Path(tmp) / "answer.parquet"
        con = duckdb.connect()
        try:
            con.sql(sql).write_parquet(str(out))
        finally:
            con.close()
        return pl.read_parquet(out)


def evaluate_sql(policies: m.PolicySet, connection: Any, *, as_of: dt.date | dt.datetime, dialect: str,
                 sources: Mapping[str, exp.Expression], region: str | None = None) -> pl.DataFrame:
    """Run the compiled SQL where the view tables are (a DB-API or SQLAlchemy connection).

    The caller is responsible for the right to read those tables; the registry database is
    read through `evaluate_registry`, which checks grants and audits."""
    day, region = check_as_of(as_of), check_region(region)
    sql = compile_sql.to_sql(policies, as_of=day, dialect=dialect, sources=sources, columns=_WIDE_VIEW_COLUMNS)
    dbapi = connection.connection if hasattr(connection, "exec_driver_sql") else connection  # SQLAlchemy → driver
    cur = dbapi.cursor()
    try:
        ranges = compile_sql.range_query(policies, sources=sources)
        if ranges is not None:  # the boundary check, before any value is computed with
            labels, query = ranges
            cur.execute(query.sql(dialect=dialect))
            check_ranges(labels, cur.fetchone())
        cur.execute(sql)  # no parameters: the values are typed literals of the plan
        rows = cur.fetchall()
    finally:
        cur.close()
    schema = wide_schema(policies)
    wide = pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")
    return finish(policies, wide.lazy(), region)


# --- the registry in place: a grant-checked exchange read --------------------------------------

# What each view field is read from: (dataset, field) in the catalog.
REGISTRY_FIELDS: dict[tuple[str, str], tuple[str, str]] = {
    **{("person", f): ("ds.person", f) for f in PERSON.fields if f not in COMPUTED_PERSON_FIELDS},
    ("person", "medical_out_of_pocket"): ("ds.medical", "out_of_pocket_fen"),
    ("person", "is_student"): ("ds.person", "student_status"),
    ("person", "income_monthly"): ("ds.income", "amount_fen"),
    ("person", "assets"): ("ds.assets", "value_fen"),
    **{("household", f): ("ds.household", f) for f in HOUSEHOLD.fields if f != "assets"},
    ("household", "assets"): ("ds.assets", "value_fen"),
}


def fields_needed(policies: m.PolicySet) -> set[tuple[str, str]]:
    """(dataset, field) pairs a policy set reads, keys and region codes included."""
    needed = {("ds.person", "id"), ("ds.person", "household_id"), ("ds.person", "region_code"),
              ("ds.household", "id"), ("ds.household", "region_code")}
    for p in policies.policies:
        exprs = [c.expr for c in p.criteria] + ([p.amount] if p.amount is not None else [])
        for e in exprs:
            for n in m.walk(e):
                if isinstance(n, m.FieldRef):
                    view = "person" if n.scope == "previous" else n.scope
                    needed.add(REGISTRY_FIELDS[(view, n.name)])
    if any(d == "ds.income" for d, _ in needed):
        needed |= {("ds.income", "person_id"), ("ds.income", "month")}
    if any(d == "ds.medical" for d, _ in needed):
        needed |= {("ds.medical", "person_id"), ("ds.medical", "settled_on")}
    return needed


def evaluate_registry(session: Session, *, principal: Principal, policies: m.PolicySet,
                      as_of: dt.date | dt.datetime, region: str | None, purpose: str,
                      backend: Literal["polars", "sql"] = "polars") -> pl.DataFrame:
    """Evaluate over the registry database in place, as an exchange read by the caller's
    department: every dataset field the policies read must be covered by its grant (or owned);
    a grade-4 field must be granted in clear. One audit event records the read.

    `polars` reads the view columns out and evaluates them here; `sql` (PostgreSQL) runs the
    compiled SQL inside the database, over the registry tables, and reads only the outcomes."""
    from tongban.datahub.exchange import basis_for

    require(principal, "exchange.read")
    if len((purpose or "").strip()) < 4:
        raise Invalid(N_("State the purpose (at least 4 characters)"), field="purpose")
    day, region = check_as_of(as_of), check_region(region)
    needed = fields_needed(policies)
    bases = {}
    for ds in sorted({d for d, _ in needed}):
        bases[ds] = basis_for(session, principal=principal, dataset_id=ds, subject_id=None)
    for ds, name in sorted(needed):
        b = bases[ds]
        if not b.computable(name):  # the release decision's rule for bulk computations
            raise Denied(N_("Your grant does not cover the field %(name)s"), principal=principal,
                         action=f"exchange:{ds}:{name}", name=name)
    if backend == "sql":
        if session.get_bind().dialect.name != "postgresql":
            raise Invalid(N_("Evaluating in the database needs PostgreSQL"), field="backend")
        result = evaluate_sql(policies, session.connection(), as_of=day, dialect="postgres", region=region,
                              sources=registry_sql_sources(as_of=day))
    else:
        result = evaluate(policies, registry_snapshot(session, as_of=day), as_of=day, region=region)
    record(session, actor=principal.actor, actor_department=principal.department_id, action="policy.evaluate",
           subject=f"policies:{len(policies.policies)}", region_code=region,
           purpose=purpose.strip(), details={
               "as_of": day.isoformat(), "region": region, "policies": [p.id for p in policies.policies], "datasets": sorted(bases),
               "fields": sorted(f"{d}:{n}" for d, n in needed),
               "basis": {d: ("owner" if b.owner else "grant") for d, b in bases.items()}, "backend": backend,
               "subjects": result.height, "eligible": int(result["eligible"].sum())})
    session.flush()
    return result
