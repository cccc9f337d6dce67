"""tongban's side of `tongban bench screen` on the harness's data: the view mapping and the
timed plan (Parquet → views → compiled policies → the 100 × 8 district matrices).

The harness's files are mapped onto the policy views by renaming, retyping and rescaling only —
the same rows, nothing precomputed:

=========================  ====================================================================
person (persons.parquet)   person_id → id; household_id; age → birth_date (1 January of
                           as-of year − age, so age_at(birth_date) on the as-of date is age);
                           disability_grade, 0 → null (no certificate); is_student;
                           income yuan → income_monthly fen (× 100)
previous (persons.parquet) person_id → id; previous_income yuan → income_monthly fen
household                  household_id → id; district → region_code "00" … "99";
                           housing_area → housing_area_m2; owns_car → vehicles 0/1;
                           assets yuan → fen
districts.parquet          threshold yuan → the per-region values (fen) of the parameter
                           bench_dibao_threshold, one region per district
=========================  ====================================================================

Fields the harness has no data for are typed nulls (no rule reads them). The enrolment flags
(`enrolled_<rule>`) stay on the person rows and are matched to each policy's benefit code.
Everything here is imported by `screen_runner.py` in a fresh process; keep imports light.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

PACK_FILE = Path(__file__).resolve().with_name("screen_pack") / "harness.yaml"
AS_OF = dt.date(2025, 1, 31)  # the harness's period is 2025-01
THRESHOLD_PARAM = "bench_dibao_threshold"
# The harness's rule names (policy.py RULES), in its column order, and our policies for them.
RULES = ("dibao", "low_income", "elderly", "severe_disability", "disability_living", "child_support",
         "education", "temp_relief")
POLICIES = tuple(f"bench_{r}" for r in RULES)
N_DISTRICTS = 100


REGIONS = pl.Enum([f"{k:02d}" for k in range(N_DISTRICTS)])
REGION_CODES = pl.lit(pl.Series(REGIONS.categories, dtype=REGIONS))


def region_of_district(district: pl.Expr) -> pl.Expr:
    """District 0 … 99 → region code "00" … "99" (two digits, so no code is a prefix of another),
    as an Enum of the hundred codes: the compiler looks parameters up by category index. A gather
    by district, not `replace_strict` (whose string mapping cost about 20 MiB of peak memory at
    1M households); a district outside 0 … 99 is refused by the gather (out of bounds)."""
    return REGION_CODES.gather(district)


# 1 January of the as-of year minus the age, by age 0 … 199: a gather per row instead of building
# a date from its year (the calendar arithmetic of `pl.date` cost about a fifth of the whole run).
# An age outside the table is refused by the gather (out of bounds), not turned into a wrong date.
BIRTH_DATES = pl.lit(pl.Series([dt.date(AS_OF.year - a, 1, 1) for a in range(200)], dtype=pl.Date))


def person_view(data: Path) -> pl.LazyFrame:
    """The person view over persons.parquet, with the same person's previous income bound on the
    row (`previous__income_monthly`, so no self-join), plus the enrolment flags the gap count
    needs. Integers keep the harness's widths (the compiler computes in 64 bits)."""
    from tongban.policy.views import PERSON, polars_schema

    p = pl.scan_parquet(data / "persons.parquet")
    mapped = {
        "id": pl.col("person_id"),
        "household_id": pl.col("household_id"),
        "birth_date": BIRTH_DATES.gather(pl.col("age")),
        "disability_grade": pl.when(pl.col("disability_grade") > 0).then(pl.col("disability_grade")),
        "is_student": pl.col("is_student"),
        "income_monthly": pl.col("income") * 100,  # at most 200,000 yuan: fits 32 bits in fen
    }
    cols = [mapped.get(name, pl.lit(None, dtype)).alias(name) for name, dtype in polars_schema(PERSON).items()]
    return p.select(*cols, (pl.col("previous_income") * 100).alias("previous__income_monthly"),
                    *[pl.col(f"enrolled_{r}") for r in RULES])


def household_view(data: Path) -> pl.LazyFrame:
    from tongban.policy.views import HOUSEHOLD, polars_schema

    h = pl.scan_parquet(data / "households.parquet")
    mapped = {"id": pl.col("household_id"), "region_code": region_of_district(pl.col("district")),
              "housing_area_m2": pl.col("housing_area"), "vehicles": pl.col("owns_car").cast(pl.Int8),
              "assets": pl.col("assets").cast(pl.Int64) * 100}
    return h.select([mapped.get(n, pl.lit(None, t)).alias(n) for n, t in polars_schema(HOUSEHOLD).items()])


def with_thresholds(policies: Any, data: Path) -> Any:
    """The policy set with bench_dibao_threshold's per-region values read from districts.parquet."""
    from tongban.policy import model as m

    d = pl.read_parquet(data / "districts.parquet")
    start = dt.date(2020, 1, 1)
    values = tuple(m.ParamValue(region=f"{int(k):02d}", start=start, value=int(t) * 100)
                   for k, t in zip(d["district"], d["threshold"], strict=True))
    if len(values) != N_DISTRICTS or {v.region for v in values} != {f"{k:02d}" for k in range(N_DISTRICTS)}:
        raise ValueError("districts.parquet must hold one threshold for each district 0 … 99")
    params = dict(policies.parameters)
    params[THRESHOLD_PARAM] = params[THRESHOLD_PARAM].model_copy(update={"values": values})
    return policies.model_copy(update={"parameters": params})


def matrices(frame: pl.DataFrame) -> tuple[Any, Any]:
    """The district × rule frame (region_code, e_<rule>, g_<rule>) → two 100 × 8 int64 arrays."""
    import numpy as np

    elig = np.zeros((N_DISTRICTS, len(RULES)), np.int64)
    gap = elig.copy()
    d = frame["region_code"].cast(pl.String).cast(pl.Int64).to_numpy()
    elig[d] = frame.select([f"e_{r}" for r in RULES]).to_numpy()
    gap[d] = frame.select([f"g_{r}" for r in RULES]).to_numpy()
    return elig, gap


def load_policies(data: Path) -> Any:
    from tongban.policy.parse import read_policy_files

    return with_thresholds(read_policy_files([PACK_FILE]), data)


def polars_plan(policies: Any, data: Path) -> pl.LazyFrame:
    """One lazy plan: scan the Parquet files, evaluate the eight policies, count per district."""
    from tongban.policy.compile_polars import col_eligible, plan
    from tongban.policy.views import Snapshot

    snap = Snapshot(person=person_view(data), household=household_view(data))
    lf = plan(policies, snap, as_of=AS_OF)
    elig = [pl.col(col_eligible(p)) for p in POLICIES]
    return (lf.group_by(pl.col("household__region_code").alias("region_code"))
            .agg([e.sum().alias(f"e_{r}") for e, r in zip(elig, RULES, strict=True)]
                 + [(e & ~pl.col(f"enrolled_{r}")).sum().alias(f"g_{r}") for e, r in zip(elig, RULES, strict=True)]))


def policies_json() -> str:
    """The pack, parsed and checked once by the parent and handed to each run as JSON, so a run
    imports only the typed tree and the compiler (not the YAML parser and the pack loader)."""
    from tongban.policy.parse import read_policy_files

    return read_policy_files([PACK_FILE]).model_dump_json()


def prepare(job: dict[str, Any]) -> dict[str, Any]:
    """Untimed: the typed policy set (the law, like OpenFisca's tax-benefit system), and the
    compilers imported (as the harness's engines are imported before their timed part)."""
    import tongban.policy.compile_polars  # noqa: F401
    import tongban.policy.views  # noqa: F401
    from tongban.policy.model import PolicySet

    if job.get("engine") == "tongban_duckdb":
        import sqlglot.dialects.duckdb  # noqa: F401 - the dialect the compiled plan is rendered in

        import tongban.policy.compile_sql  # noqa: F401

    return {"data": Path(job["data"]), "policies": PolicySet.model_validate_json(Path(job["policies"]).read_bytes())}


def run(prepared: dict[str, Any], *, backend: str) -> tuple[Any, Any]:
    """Timed: read districts.parquet into the parameter, build the plan, run it, tally."""
    data: Path = prepared["data"]
    policies = with_thresholds(prepared["policies"], data)
    if backend == "polars":
        return matrices(polars_plan(policies, data).collect())
    if backend == "duckdb":
        return matrices(duckdb_query(policies, data))
    raise ValueError(f"unknown backend {backend!r}")


def _parquet(data: Path, table: str) -> Any:
    from sqlglot import exp

    return exp.Table(this=exp.Anonymous(this="read_parquet",
                                        expressions=[exp.Literal.string(str(data / f"{table}.parquet"))]))


def sql_sources(data: Path) -> dict[str, Any]:
    """The same view mapping as the Polars one, as SQLGlot subqueries over read_parquet."""
    from sqlglot import exp

    from tongban.policy.compile_sql import SQL_TYPES
    from tongban.policy.views import HOUSEHOLD, PERSON

    def cast(e: Any, t: str) -> Any:
        return exp.cast(e, exp.DataType.build(exp.DataType.Type[t]))

    def times_100(name: str) -> Any:
        return exp.Mul(this=cast(exp.column(name), "BIGINT"), expression=exp.Literal.number(100))

    def view(view: Any, table: str, mapped: dict[str, Any], *extra: Any) -> Any:
        cols = [exp.alias_(mapped[n] if n in mapped else cast(exp.Null(), SQL_TYPES[f.type]), n)
                for n, f in view.fields.items()]
        return exp.select(*cols, *[c if isinstance(c, exp.Expression) else exp.column(c) for c in extra]).from_(
            _parquet(data, table)).subquery()

    grade = exp.column("disability_grade")
    person = {
        "id": cast(exp.column("person_id"), "BIGINT"), "household_id": cast(exp.column("household_id"), "BIGINT"),
        "birth_date": exp.Anonymous(this="make_date", expressions=[
            exp.Sub(this=exp.Literal.number(AS_OF.year), expression=cast(exp.column("age"), "INT")),
            exp.Literal.number(1), exp.Literal.number(1)]),
        "disability_grade": exp.Case(ifs=[exp.If(this=exp.GT(this=grade, expression=exp.Literal.number(0)),
                                                 true=cast(grade, "BIGINT"))]),
        "is_student": exp.column("is_student"), "income_monthly": times_100("income"),
    }
    household = {
        "id": cast(exp.column("household_id"), "BIGINT"),
        "region_code": exp.Anonymous(this="lpad", expressions=[
            cast(exp.column("district"), "TEXT"), exp.Literal.number(2), exp.Literal.string("0")]),
        "housing_area_m2": cast(exp.column("housing_area"), "BIGINT"),
        "vehicles": cast(exp.column("owns_car"), "BIGINT"), "assets": times_100("assets"),
    }
    flags = [f"enrolled_{r}" for r in RULES]  # carried through the compiled plan (extra_columns)
    bound = exp.alias_(times_100("previous_income"), "previous__income_monthly")  # as person_view binds it
    return {"person": view(PERSON, "persons", person, bound, *flags),
            "household": view(HOUSEHOLD, "households", household)}


def duckdb_sql(policies: Any, data: Path) -> str:
    """One statement: the compiled policies over the mapped views, the enrolment flags carried
    through the plan as extra person columns, counted per district."""
    from sqlglot import exp

    from tongban.policy.compile_polars import col_eligible
    from tongban.policy.compile_sql import plan

    flags = [f"enrolled_{r}" for r in RULES]
    evaluated = plan(policies, as_of=AS_OF, sources=sql_sources(data), columns=["household__region_code"],
                     extra_columns=flags, bound_previous=["income_monthly"]).subquery("r", copy=False)

    def count(cond: Any) -> Any:
        return exp.Sum(this=exp.cast(cond, exp.DataType.build("BIGINT")))

    elig = [exp.column(col_eligible(p), table="r") for p in POLICIES]
    cols = [exp.alias_(exp.column("household__region_code", table="r"), "region_code")]
    cols += [exp.alias_(count(e), f"e_{r}") for e, r in zip(elig, RULES, strict=True)]
    cols += [exp.alias_(count(exp.and_(e, exp.not_(exp.column(f"enrolled_{r}", table="r")))), f"g_{r}")
             for e, r in zip(elig, RULES, strict=True)]
    q = exp.select(*cols).from_(evaluated).group_by(exp.column("household__region_code", table="r"))
    return q.sql(dialect="duckdb")


def duckdb_query(policies: Any, data: Path) -> pl.DataFrame:
    import duckdb

    con = duckdb.connect()
    try:
        got = con.execute(duckdb_sql(policies, data)).fetchnumpy()
    finally:
        con.close()
    return pl.DataFrame({k: v for k, v in got.items()})
