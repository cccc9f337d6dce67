"""The policy engine's edge cases as one small policy set and population, run on every backend
(test_edges.py, test_spark.py): every function of the language, a person and a household with
no region, values at the boundary of the range policies compute in (`views.VALUE_LIMIT`), the
Int32 value that overflowed DuckDB's 32-bit product, and narrow integer columns."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

from tongban.policy import model as m
from tongban.policy.parse import read_policy_files
from tongban.policy.views import HOUSEHOLD, PERSON, PREVIOUS, VALUE_LIMIT, View, polars_schema

AS_OF = dt.date(2026, 7, 1)
INT32_EDGE = 2_000_000_001  # `Overflow in multiplication of INT32 (2000000001 * 2)` in DuckDB

# One expression per function of the language (parse.FUNCTIONS, parse.AGGREGATES): a function
# without a case here fails test_spark's coverage check.
FUNCTION_CASES: dict[str, str] = {
    "yuan": "income_monthly < yuan(1000.50)",
    "fen": "assets >= fen(1)",
    "date": 'birth_date < date("1970-01-01")',
    "age_at": "age_at(birth_date) >= param.p_everywhere and age_at(birth_date, date(\"2030-02-28\")) > 18",
    "days_between": "days_between(birth_date, as_of) > 20000",
    "add_days": "add_days(birth_date, 365) < as_of and add_days(as_of, coalesce(disability_grade, 0) * -30) < as_of",
    "min": "min(income_monthly, assets) < param.p_money",
    "max": "max(income_monthly, fen(0)) <= param.p_only_3302",
    "coalesce": "coalesce(disability_grade, 9) <= 2",
    "is_null": "not is_null(region_code)",
    "household.count": "household.count() >= 2 and household.count(age_at(birth_date) >= 60) >= 1",
    "household.sum": "household.sum(income_monthly) / household.count() < param.p_money",
    "household.any": "household.any(disability_grade in [1, 2] or income_monthly < param.p_money)",
    "household.all": "household.all(alive)",
}

# Arithmetic straight on a view column (a narrow one in the narrow variant): `a / b` doubles its
# dividend, which DuckDB computed in the column's own width.
OPERATOR_CASES: dict[str, str] = {
    "div": "income_monthly / 2 > assets / 3 - fen(1) and income_monthly * 2 != fen(1)",
    "household.div": "household.housing_area_per_capita > 10 or household.vehicles * 3 > household.housing_area_m2 / 2",
}
CASES = FUNCTION_CASES | OPERATOR_CASES
_PERSON_CASES = [k for k in CASES if not k.startswith("household.")]
_HOUSEHOLD_CASES = [k for k in CASES if k.startswith("household.")]


def _criteria(keys: list[str]) -> str:
    return "".join(f"      - id: {k.replace('.', '_')}\n        description: {{zh: 条件, en: {k}}}\n"
                   f"        expr: '{CASES[k]}'\n" for k in keys)


EDGE_YAML = f"""\
parameters:
  - id: p_everywhere
    type: int
    description: {{zh: 年龄, en: an age for everywhere}}
    values:
      - {{region: "*", from: 2025-01-01, value: 60}}
  - id: p_money
    type: money
    description: {{zh: 标准, en: a standard with a regional value}}
    values:
      - {{region: "*", from: 2025-01-01, value: 800}}
      - {{region: "3302", from: 2025-01-01, value: 1000}}
  - id: p_only_3302
    type: money
    description: {{zh: 标准, en: a standard of one city only}}
    values:
      - {{region: "3302", from: 2025-01-01, value: 1200}}
policies:
  - id: fn_person
    title: {{zh: 函数, en: functions}}
    domain: test
    department: dept.test
    legal_basis: test
    unit: person
    views: [person, household, previous]
    criteria:
{_criteria(_PERSON_CASES)}\
    amount: (param.p_money - income_monthly) / 3
  - id: fn_household
    title: {{zh: 家庭, en: aggregates}}
    domain: test
    department: dept.test
    legal_basis: test
    unit: household
    views: [household, person]
    criteria:
{_criteria(_HOUSEHOLD_CASES)}\
    amount: max(param.p_money * household.member_count - household.income_monthly, fen(0))
  - id: fn_everywhere
    title: {{zh: 到处, en: a parameter for everywhere}}
    domain: test
    department: dept.test
    legal_basis: test
    unit: person
    views: [person, household, previous]
    criteria:
      - id: age
        description: {{zh: 年龄, en: age}}
        expr: age_at(birth_date) >= param.p_everywhere
      - id: either
        description: {{zh: 或, en: either}}
        expr: policy.fn_household or policy.fn_person or coalesce(previous.income_monthly, fen(0)) >= fen(0)
    amount: param.p_money + coalesce(household.income_per_capita_monthly, fen(0)) / 2
"""


def edge_policies() -> m.PolicySet:
    with tempfile.TemporaryDirectory(prefix="tongban-edges-") as tmp:
        path = Path(tmp) / "edges.yaml"
        path.write_text(EDGE_YAML, encoding="utf-8")
        return read_policy_files([path], base=tmp)


def _person(pid: int, hid: int | None, region: str | None, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {n: None for n in PERSON.fields}
    row.update(id=pid, household_id=hid, region_code=region, alive=True, sex="F", birth_date=dt.date(1950, 3, 1),
               income_monthly=50_000, assets=10_000, disability_grade=None)
    row.update(values)
    return row


def edge_population(*, wide: bool = True) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(persons, households, previous). `wide`: amounts at ±VALUE_LIMIT (int64 columns only);
    otherwise every value fits the narrow columns of `narrow_frames` (Int32 income with the value
    that overflowed DuckDB, UInt32 assets, Int8 grades and vehicles, Int16 areas)."""
    big = VALUE_LIMIT if wide else INT32_EDGE
    persons = [
        # a household with no region, members with none: `*` values apply, region values do not
        _person(1, 1, None, birth_date=dt.date(1944, 2, 29), income_monthly=60_000),
        _person(2, 1, None, birth_date=dt.date(2008, 2, 29), income_monthly=0, disability_grade=2),
        # amounts at the edge of the range, positive and negative, in one household
        _person(3, 2, "330203001001", income_monthly=big, assets=big),
        _person(4, 2, "330203001001", income_monthly=-big if wide else 7, disability_grade=1),
        _person(5, 2, "330205001001", income_monthly=big - 1, assets=0, alive=False),
        # the Int32 edge value in a division, and an ordinary household
        _person(6, 3, "330212000000", income_monthly=INT32_EDGE, birth_date=dt.date(1990, 12, 31)),
        _person(7, 3, "330212000000", income_monthly=1, assets=1, birth_date=dt.date(1966, 7, 1)),
        # no household, and one whose household is missing from the household view
        _person(8, None, None, income_monthly=79_999, assets=None),
        _person(9, 4, "330203004002", income_monthly=None, disability_grade=4),
    ]
    households = [
        {"id": 1, "region_code": None, "housing_area_m2": 40, "vehicles": 0, "assets": 0},
        {"id": 2, "region_code": "330203001001", "housing_area_m2": 30_000, "vehicles": 127,
         "assets": -big if wide else big},
        {"id": 3, "region_code": "330212000000", "housing_area_m2": None, "vehicles": 1, "assets": INT32_EDGE},
    ]
    previous = [{**p, "income_monthly": (p["income_monthly"] or 0) // 2} for p in persons[:6]]
    return persons, households, previous


NARROW: dict[str, dict[str, pl.DataType]] = {
    "person": {"id": pl.Int32(), "household_id": pl.Int16(), "income_monthly": pl.Int32(), "assets": pl.UInt32(),
               "disability_grade": pl.Int8()},
    "household": {"id": pl.Int16(), "housing_area_m2": pl.Int16(), "vehicles": pl.Int8(), "assets": pl.Int32()},
}
NARROW["previous"] = NARROW["person"]


def frame(rows: list[dict[str, Any]], view: View, narrow: bool = False) -> pl.DataFrame:
    schema = polars_schema(view)
    df = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    return df.cast(NARROW[view.name]) if narrow else df  # type: ignore[arg-type]


def views() -> tuple[View, View, View]:
    return PERSON, HOUSEHOLD, PREVIOUS
