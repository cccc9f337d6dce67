"""Named registry views a policy binds to, with their declared schemas.

`person` has one row per person, `household` one row per household, and `previous` is an
earlier snapshot of `person` (same columns), joined by person id, so change rules can be
written (`previous.income_monthly`). Household aggregates (member count, income per capita)
are not stored: they are *derived fields* written in the policy language itself and
evaluated in the same plan, so a snapshot holds facts only.

A snapshot is a folder of Parquet files (`person.parquet`, `household.parquet`, optionally
`previous.parquet`), or the same tables in a DuckDB/PostgreSQL database. `registry_snapshot`
builds them from the registry tables for an as-of date; see docs/policy.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from tongban.core.errors import Invalid
from tongban.core.i18n import N_
from tongban.policy.model import PolicySet, ValueType

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

INCOME_MONTHS = 6  # income_monthly is the average over the last N full months
MEDICAL_MONTHS = 12  # medical_out_of_pocket sums the medical-insurance settlements of the last N months


@dataclass(frozen=True)
class ViewField:
    name: str
    type: ValueType
    description: str


@dataclass(frozen=True)
class View:
    name: str
    key: str
    fields: dict[str, ViewField]
    file: str

    def type_of(self, name: str) -> ValueType | None:
        f = self.fields.get(name)
        return f.type if f else None


def _fields(*items: tuple[str, ValueType, str]) -> dict[str, ViewField]:
    return {n: ViewField(n, t, d) for n, t, d in items}


_PERSON_FIELDS = _fields(
    ("id", "int", "person record id"),
    ("household_id", "int", "household record id (null: in no household)"),
    ("birth_date", "date", "date of birth"),
    ("sex", "str", "M | F"),
    ("region_code", "str", "residence community, 12-digit code"),
    ("hukou_region_code", "str", "hukou (户籍) region code"),
    ("alive", "bool", "alive"),
    ("marital_status", "str", "single | married | divorced | widowed"),
    ("disability_type", "str", "visual | hearing | speech | physical | intellectual | mental | multiple"),
    ("disability_grade", "int", "1 (most severe) … 4; null: no disability certificate"),
    ("employment_status", "str", "employed | unemployed | retired | none | unknown"),
    ("student_status", "str", "preschool | primary | junior | senior | vocational | university"),
    ("is_student", "bool", "in school or university"),
    ("income_monthly", "money", f"average monthly income over the last {INCOME_MONTHS} months, fen"),
    ("assets", "money", "assets owned by the person, fen"),
    ("medical_out_of_pocket", "money",
     f"medical costs the person paid themselves (个人负担) over the last {MEDICAL_MONTHS} months, fen"),
)

PERSON = View("person", "id", _PERSON_FIELDS, "person.parquet")
PREVIOUS = View("previous", "id", _PERSON_FIELDS, "previous.parquet")
HOUSEHOLD = View("household", "id", _fields(
    ("id", "int", "household record id"),
    ("region_code", "str", "community of the household, 12-digit code"),
    ("housing_area_m2", "int", "housing area in m²"),
    ("vehicles", "int", "motor vehicles owned"),
    ("assets", "money", "assets owned by the household as a whole, fen"),
), "household.parquet")

VIEWS: dict[str, View] = {v.name: v for v in (PERSON, HOUSEHOLD, PREVIOUS)}
_KEYS = {"person": ("id", "household_id", "region_code"), "household": ("id", "region_code")}
# Person view fields computed from other registry tables (not columns of `person`).
COMPUTED_PERSON_FIELDS = ("is_student", "income_monthly", "assets", "medical_out_of_pocket")

# Derived household fields: policy-language expressions expanded where they are used.
HOUSEHOLD_DERIVED: dict[str, tuple[str, str]] = {
    "member_count": ("household.count()", "number of members"),
    "income_monthly": ("household.sum(income_monthly)", "household monthly income, fen"),
    "income_per_capita_monthly": ("household.sum(income_monthly) / household.count()",
                                  "monthly income per member, fen (rounded half away from zero)"),
    "previous_income_monthly": ("household.sum(previous.income_monthly)",
                                "household monthly income in the previous snapshot, fen"),
    "assets_total": ("household.assets + household.sum(assets)", "household and members' assets, fen"),
    "assets_per_capita": ("(household.assets + household.sum(assets)) / household.count()",
                          "assets per member, fen"),
    "housing_area_per_capita": ("household.housing_area_m2 / household.count()", "m² per member"),
    "medical_out_of_pocket": ("household.sum(medical_out_of_pocket)",
                              f"medical costs the members paid themselves over the last {MEDICAL_MONTHS} months, fen"),
}

POLARS_TYPES: dict[ValueType, pl.DataType] = {
    "int": pl.Int64(), "money": pl.Int64(), "bool": pl.Boolean(), "str": pl.String(), "date": pl.Date(),
}


def polars_schema(view: View) -> dict[str, pl.DataType]:
    return {n: POLARS_TYPES[f.type] for n, f in view.fields.items()}


@dataclass(frozen=True)
class Snapshot:
    """A view snapshot in memory or on disk: the frames of person, household and previous."""

    person: pl.LazyFrame
    household: pl.LazyFrame
    previous: pl.LazyFrame | None = None

    @classmethod
    def from_parquet(cls, folder: str | Path) -> Snapshot:
        folder = Path(folder)

        def scan(view: View) -> pl.LazyFrame:
            return pl.scan_parquet(folder / view.file).select(
                [pl.col(n).cast(t) for n, t in polars_schema(view).items()])

        prev = folder / PREVIOUS.file
        return cls(scan(PERSON), scan(HOUSEHOLD), scan(PREVIOUS) if prev.exists() else None)

    @classmethod
    def from_frames(cls, person: pl.DataFrame, household: pl.DataFrame,
                    previous: pl.DataFrame | None = None) -> Snapshot:
        def conform(df: pl.DataFrame, view: View) -> pl.LazyFrame:
            return df.lazy().select([pl.col(n).cast(t) for n, t in polars_schema(view).items()])

        return cls(conform(person, PERSON), conform(household, HOUSEHOLD),
                   conform(previous, PREVIOUS) if previous is not None else None)

    def write_parquet(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.person.collect().write_parquet(folder / PERSON.file)
        self.household.collect().write_parquet(folder / HOUSEHOLD.file)
        if self.previous is not None:
            self.previous.collect().write_parquet(folder / PREVIOUS.file)


# The range every int and money value of a view must lie in (±10¹⁵: ten trillion yuan in fen).
# Policies compute in 64 bits (±9.2 × 10¹⁸), and a division's rounding doubles its dividend: a
# value near 2⁶² overflows, silently in Polars and as an aborted query in SQL. Values inside
# this range leave room for a household's sum over thousands of members, its doubling, and a
# product with a small factor, on every backend alike; a value outside it is refused at the
# view's boundary, naming the column, before any backend computes with it.
VALUE_LIMIT = 10**15


class ValueOutOfRange(Invalid):
    type_ = "policy-value-out-of-range"

    def __init__(self, column: str, value: int) -> None:
        super().__init__(N_("%(column)s holds %(value)s, beyond the ±10¹⁵ that policies compute with"),
                         field=column, column=column, value=value)


def check_range(column: str, low: int | None, high: int | None) -> None:
    """Refuse a column whose smallest or largest value lies beyond ±VALUE_LIMIT."""
    for value in (low, high):
        if value is not None and abs(int(value)) > VALUE_LIMIT:
            raise ValueOutOfRange(column, int(value))


def check_snapshot(policies: PolicySet, snap: Snapshot) -> None:
    """The boundary check of a snapshot: the int and money columns the policies read (`previous`
    fields from the previous view, or from the person rows' `previous__<field>` columns) hold no
    value beyond ±VALUE_LIMIT; one pass of min/max over those columns."""
    from tongban.policy.analysis import numbers_read

    read = numbers_read(policies)
    person_names = set(snap.person.collect_schema().names())
    wanted: dict[str, list[tuple[str, str]]] = {}  # frame → (column, label)
    for view, names in read.items():
        for n in sorted(names):
            if view == "previous" and f"previous__{n}" in person_names:
                wanted.setdefault("person", []).append((f"previous__{n}", f"previous.{n}"))
            elif view != "previous" or snap.previous is not None:
                wanted.setdefault(view, []).append((n, f"{view}.{n}"))
    frames = {"person": snap.person, "household": snap.household, "previous": snap.previous}
    for view, cols in wanted.items():
        lf = frames[view]
        assert lf is not None
        row = lf.select([e for c, _ in cols for e in (pl.col(c).min().alias(f"{c}:min"),
                                                      pl.col(c).max().alias(f"{c}:max"))]).collect()
        for c, label in cols:
            check_range(label, row[f"{c}:min"][0], row[f"{c}:max"][0])


def _shift(d: dt.date, months: int) -> dt.date:
    """The same day `months` months later (earlier when negative), clamped to the month's end."""
    import calendar

    m = d.year * 12 + d.month - 1 + months
    year, month = m // 12, m % 12 + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _month(d: dt.date, back: int) -> str:
    m = d.year * 12 + d.month - 1 - back
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def registry_sql_sources(*, as_of: dt.date, months: int = INCOME_MONTHS) -> dict[str, Any]:
    """The same views as SQLGlot subqueries over the registry tables, for evaluating the
    compiled SQL inside the registry database (see `evaluate.evaluate_registry`)."""
    from sqlglot import exp

    from tongban.policy import model as m
    from tongban.policy.compile_sql import ExprCompiler, literal

    def sums(table: str, key: str, value: str, alias: str, where: Any) -> exp.Expression:
        return (exp.select(exp.column(key).as_("k"), exp.Cast(this=exp.Sum(this=exp.column(value)),
                                                              to=exp.DataType.build("BIGINT")).as_(alias))
                .from_(table).where(where).group_by(exp.column(key)).subquery())

    def assets(kind: str) -> exp.Expression:
        return sums("asset_record", "owner_id", "value_fen", "total", exp.and_(
            exp.EQ(this=exp.column("owner_kind"), expression=exp.Literal.string(kind)),
            exp.LTE(this=exp.column("as_of"), expression=literal(as_of, "date"))))

    def _eq(sub: str, main: str) -> exp.Expression:
        return exp.EQ(this=exp.column("k", table=sub), expression=exp.column("id", table=main))

    average = m.Arith(op="div", left=m.FieldRef(scope="person", name="total", type="money"),
                      right=m.Lit(type="int", value=months), type="money")

    def person(first_back: int) -> exp.Expression:
        lo, hi = _month(as_of, first_back + months), _month(as_of, first_back + 1)
        income = sums("income_record", "person_id", "amount_fen", "total", exp.and_(
            exp.GTE(this=exp.column("month"), expression=exp.Literal.string(lo)),
            exp.LTE(this=exp.column("month"), expression=exp.Literal.string(hi))))
        plain = [n for n in PERSON.fields if n not in COMPUTED_PERSON_FIELDS]
        until = _shift(as_of, -first_back)
        medical = sums("medical_settlement", "person_id", "out_of_pocket_fen", "total", exp.and_(
            exp.GT(this=exp.column("settled_on"), expression=literal(_shift(until, -MEDICAL_MONTHS), "date")),
            exp.LTE(this=exp.column("settled_on"), expression=literal(until, "date"))))
        compiler = ExprCompiler(m.PolicySet(policies=(), parameters={}), None, as_of)  # type: ignore[arg-type]
        return (exp.select(
            *[exp.column(n, table="p") for n in plain],
            exp.Not(this=exp.Is(this=exp.column("student_status", table="p"), expression=exp.Null()))
            .as_("is_student"),
            exp.Coalesce(this=compiler.expr(average).transform(
                lambda node: exp.column("total", table="i") if isinstance(node, exp.Column) else node),
                expressions=[exp.Literal.number(0)]).as_("income_monthly"),
            exp.Coalesce(this=exp.column("total", table="a"), expressions=[exp.Literal.number(0)]).as_("assets"),
            exp.Coalesce(this=exp.column("total", table="mb"), expressions=[exp.Literal.number(0)])
            .as_("medical_out_of_pocket"))
            .from_(exp.to_table("person").as_("p"))
            .join(income.as_("i"), on=_eq("i", "p"), join_type="left")
            .join(assets("person").as_("a"), on=_eq("a", "p"), join_type="left")
            .join(medical.as_("mb"), on=_eq("mb", "p"), join_type="left").subquery())

    household = (exp.select(
        *[exp.column(n, table="h") for n in HOUSEHOLD.fields if n != "assets"],
        exp.Coalesce(this=exp.column("total", table="a"), expressions=[exp.Literal.number(0)]).as_("assets"))
        .from_(exp.to_table("household").as_("h"))
        .join(assets("household").as_("a"), on=_eq("a", "h"), join_type="left").subquery())
    return {"person": person(0), "household": household, "previous": person(months)}


def registry_snapshot(session: Session, *, as_of: dt.date, months: int = INCOME_MONTHS,
                      fields: Mapping[str, Collection[str]] | None = None) -> Snapshot:
    """The views as of `as_of`, read from the registry tables: income_monthly averages the
    `months` full months before `as_of` (a month without records counts as 0); `previous` is
    the same person view over the `months` before that. Assets are summed per owner.

    `fields` (view → field names) reads only those fields (keys always); the other view
    columns are null, and income or assets are not queried when no policy reads them."""
    from sqlalchemy import func, select

    from tongban.registry.reads import view_tables

    # The registry's tables, named by the registry for this in-place path (the views' own
    # aggregate selects need the columns, not records one by one).
    Person, Household, IncomeRecord, AssetRecord, MedicalSettlement = view_tables()  # noqa: N806

    def wanted(view: str, name: str) -> bool:
        return fields is None or name in _KEYS.get(view, ()) or name in fields.get(view, ()) or (
            view == "person" and name in fields.get("previous", ()))

    stored = ["id", "household_id", "birth_date", "sex", "region_code", "hukou_region_code", "alive",
              "marital_status", "disability_type", "disability_grade", "employment_status", "student_status"]
    read = [n for n in stored if wanted("person", n) or (n == "student_status" and wanted("person", "is_student"))]
    people = session.execute(select(*[getattr(Person, n) for n in read])).all()
    base = pl.DataFrame([tuple(r) for r in people], orient="row", schema=read, infer_schema_length=None)
    base = base.with_columns([pl.lit(None, dtype=POLARS_TYPES[PERSON.fields[n].type]).alias(n)
                              for n in stored if n not in read])
    base = base.with_columns(is_student=pl.col("student_status").is_not_null() if wanted("person", "is_student")
                             else pl.lit(None, dtype=pl.Boolean))
    if not wanted("person", "student_status"):
        base = base.with_columns(pl.lit(None, dtype=pl.String).alias("student_status"))

    def income(first_back: int) -> pl.DataFrame:
        lo, hi = _month(as_of, first_back + months), _month(as_of, first_back + 1)
        rows = session.execute(select(IncomeRecord.person_id, func.sum(IncomeRecord.amount_fen))
                               .where(IncomeRecord.month >= lo, IncomeRecord.month <= hi)
                               .group_by(IncomeRecord.person_id)).all()
        df = pl.DataFrame([(r[0], int(r[1])) for r in rows], orient="row", schema={"id": pl.Int64, "total": pl.Int64})
        # the average rounded half away from zero, as everywhere in policies
        q = (pl.col("total").abs() * 2 + months) // (2 * months)
        return df.select("id", income_monthly=pl.when(pl.col("total") < 0).then(-q).otherwise(q))

    def assets(kind: str) -> pl.DataFrame:
        rows = session.execute(select(AssetRecord.owner_id, func.sum(AssetRecord.value_fen))
                               .where(AssetRecord.owner_kind == kind, AssetRecord.as_of <= as_of)
                               .group_by(AssetRecord.owner_id)).all()
        return pl.DataFrame([(r[0], int(r[1])) for r in rows], orient="row", schema={"id": pl.Int64, "assets": pl.Int64})

    def medical(first_back: int) -> pl.DataFrame:
        hi = _shift(as_of, -first_back)
        lo = _shift(hi, -MEDICAL_MONTHS)
        rows = session.execute(select(MedicalSettlement.person_id, func.sum(MedicalSettlement.out_of_pocket_fen))
                               .where(MedicalSettlement.settled_on > lo, MedicalSettlement.settled_on <= hi)
                               .group_by(MedicalSettlement.person_id)).all()
        return pl.DataFrame([(r[0], int(r[1])) for r in rows], orient="row",
                            schema={"id": pl.Int64, "medical_out_of_pocket": pl.Int64})

    def person_view(first_back: int) -> pl.DataFrame:
        out = base.with_columns(pl.col("id").cast(pl.Int64))
        for name, part in (("income_monthly", lambda: income(first_back)), ("assets", lambda: assets("person")),
                           ("medical_out_of_pocket", lambda: medical(first_back))):
            out = (out.join(part(), on="id", how="left").with_columns(pl.col(name).fill_null(0))
                   if wanted("person", name) else out.with_columns(pl.lit(None, dtype=pl.Int64).alias(name)))
        return out

    hh_read = [n for n in ("id", "region_code", "housing_area_m2", "vehicles") if wanted("household", n)]
    hh = session.execute(select(*[getattr(Household, n) for n in hh_read])).all()
    household = (pl.DataFrame([tuple(r) for r in hh], orient="row", schema=hh_read, infer_schema_length=None)
                 .with_columns(pl.col("id").cast(pl.Int64))
                 .with_columns([pl.lit(None, dtype=pl.Int64).alias(n) for n in ("housing_area_m2", "vehicles")
                                if n not in hh_read]))
    household = (household.join(assets("household"), on="id", how="left").with_columns(pl.col("assets").fill_null(0))
                 if wanted("household", "assets") else household.with_columns(pl.lit(None, dtype=pl.Int64)
                                                                               .alias("assets")))
    return Snapshot.from_frames(person_view(0), household, person_view(months))


def views_of_tables(tables: Mapping[str, pl.DataFrame], *, as_of: dt.date,
                    months: int = INCOME_MONTHS) -> dict[str, pl.DataFrame]:
    """The views computed from registry tables held as frames, by the rules `registry_snapshot`
    reads them from the database with (income averaged over the `months` full months before
    `as_of`, `previous` the `months` before that; assets summed per owner; medical costs paid
    themselves over the last 12 months). For tables that are not in a database: a chunk of the
    synthetic city (`registry.generator`), so the benchmarks' view city is the registry's city.
    The household view keeps the table's `head_person_id` (a Parquet source's optional column)."""
    person = tables["person"]

    def income(first_back: int) -> pl.DataFrame:
        lo, hi = _month(as_of, first_back + months), _month(as_of, first_back + 1)
        total = (tables["income_record"].filter(pl.col("month").is_between(pl.lit(lo), pl.lit(hi)))
                 .group_by("person_id").agg(total=pl.col("amount_fen").sum()))
        q = (pl.col("total").abs() * 2 + months) // (2 * months)  # half away from zero, as everywhere
        return total.select(pl.col("person_id").cast(pl.Int64).alias("id"),
                            income_monthly=pl.when(pl.col("total") < 0).then(-q).otherwise(q))

    def assets(kind: str) -> pl.DataFrame:
        return (tables["asset_record"].filter((pl.col("owner_kind") == kind) & (pl.col("as_of") <= as_of))
                .group_by("owner_id").agg(assets=pl.col("value_fen").sum())
                .select(pl.col("owner_id").cast(pl.Int64).alias("id"), "assets"))

    def medical(first_back: int) -> pl.DataFrame:
        hi = _shift(as_of, -first_back)
        lo = _shift(hi, -MEDICAL_MONTHS)
        settled = tables.get("medical_settlement")
        if settled is None:
            return pl.DataFrame(schema={"id": pl.Int64, "medical_out_of_pocket": pl.Int64})
        return (settled.filter((pl.col("settled_on") > lo) & (pl.col("settled_on") <= hi))
                .group_by("person_id").agg(medical_out_of_pocket=pl.col("out_of_pocket_fen").sum())
                .select(pl.col("person_id").cast(pl.Int64).alias("id"), "medical_out_of_pocket"))

    stored = [n for n in PERSON.fields if n not in COMPUTED_PERSON_FIELDS]
    base = person.select(*stored).with_columns(pl.col("id").cast(pl.Int64),
                                               is_student=pl.col("student_status").is_not_null())
    owned = assets("person")

    def person_view(first_back: int) -> pl.DataFrame:
        out = base
        for part in (income(first_back), owned, medical(first_back)):
            out = out.join(part, on="id", how="left")
        out = out.with_columns(pl.col(n).fill_null(0) for n in ("income_monthly", "assets", "medical_out_of_pocket"))
        return out.select([pl.col(n).cast(t) for n, t in polars_schema(PERSON).items()])

    hh = tables["household"]
    household = (hh.select(pl.col("id").cast(pl.Int64), "region_code", "housing_area_m2", "vehicles",
                           pl.col("head_person_id").cast(pl.Int64))
                 .join(assets("household"), on="id", how="left").with_columns(pl.col("assets").fill_null(0))
                 .select(*[pl.col(n).cast(t) for n, t in polars_schema(HOUSEHOLD).items()], "head_person_id"))
    return {"person": person_view(0), "household": household, "previous": person_view(months)}
