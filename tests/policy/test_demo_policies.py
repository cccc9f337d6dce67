"""Hand-computed cases for each demo policy: at, just under and just over every threshold, and
on the day a parameter changes. Each case is its own household in one population, evaluated
once per as-of date on every backend (and the reference), which must all give the figures
worked out by hand here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.policy import backends
from tongban.policy.parse import read_policies

DEMO = read_policies("packs/demo")
HAISHU = "330203001001"  # 海曙区: 低保标准 1195 yuan, 1255 from 2026-07-01 (demo values)
JIANGBEI = "330205001001"  # 江北区: 1230 from 2026-01-01
BEFORE, CHANGE = dt.date(2026, 6, 30), dt.date(2026, 7, 1)
STD, STD_NEW = 119500, 125500


@dataclass
class Case:
    name: str
    members: list[dict[str, Any]]
    expect: dict[str, tuple[bool, int | None]]  # policy → (eligible, amount) of the subject
    as_of: dt.date = BEFORE
    region: str = HAISHU
    household: dict[str, Any] = field(default_factory=dict)
    previous_income: list[int] | None = None


def person(**kw: Any) -> dict[str, Any]:
    base = {"birth_date": dt.date(1980, 1, 1), "sex": "M", "alive": True, "marital_status": "married",
            "disability_type": None, "disability_grade": None, "employment_status": "employed",
            "student_status": None, "is_student": False, "income_monthly": 0, "assets": 0}
    return {**base, **kw}


HH = {"vehicles": 0, "housing_area_m2": 40, "assets": 0}

CASES = [
    # 低保: per-capita income < standard (strict), assets per capita < 60000 yuan, no vehicle, ≤ 70 m² each
    Case("dibao just under", [person(income_monthly=STD - 1)], {"dibao": (True, 1)}),
    Case("dibao at the standard", [person(income_monthly=STD)], {"dibao": (False, None), "dibao_edge": (True, None)}),
    Case("dibao just over", [person(income_monthly=STD + 1)], {"dibao": (False, None)}),
    # two members, 2×STD − 1 in all: per capita STD − 0.5 rounds half away from zero to STD → not eligible
    Case("dibao per-capita rounding", [person(income_monthly=STD - 1), person(income_monthly=STD)],
         {"dibao": (False, None)}),
    Case("dibao two members under", [person(income_monthly=STD - 2), person(income_monthly=STD)],
         {"dibao": (True, 2)}),
    Case("dibao before the raise", [person(income_monthly=120000)], {"dibao": (False, None)}),
    Case("dibao on the day of the raise", [person(income_monthly=120000)], {"dibao": (True, STD_NEW - 120000)},
         as_of=CHANGE),
    Case("dibao in Jiangbei", [person(income_monthly=122999, region_code=JIANGBEI)], {"dibao": (True, 1)},
         region=JIANGBEI),
    Case("dibao assets at the limit", [person(income_monthly=0)], {"dibao": (False, None)},
         household={"assets": 6_000_000}),
    Case("dibao assets under the limit", [person(income_monthly=0)], {"dibao": (True, STD)},
         household={"assets": 5_999_999}),
    Case("dibao with a vehicle", [person(income_monthly=0)], {"dibao": (False, None)}, household={"vehicles": 1}),
    Case("dibao housing at the limit", [person(), person()], {"dibao": (True, 2 * STD)},
         household={"housing_area_m2": 140}),
    Case("dibao housing over the limit", [person(), person()], {"dibao": (False, None)},
         household={"housing_area_m2": 142}),  # 71 m² each
    Case("dibao missing income", [person(income_monthly=None)], {"dibao": (False, None), "dibao_edge": (False, None)}),
    # 低保边缘: not dibao, per capita < 1.5 × standard = 179250 fen
    Case("edge just under", [person(income_monthly=179249)], {"dibao_edge": (True, None), "medical_aid": (True, None)}),
    Case("edge at", [person(income_monthly=179250)], {"dibao_edge": (False, None), "medical_aid": (False, None)}),
    # 特困: 60+ (on the birthday), under 16, or grade 1–2; own income < standard; no earning adult
    Case("tekun turns 60 today", [person(birth_date=dt.date(1966, 6, 30), income_monthly=STD - 1)],
         {"tekun": (True, 155350)}),  # 1195 × 1.3 = 1553.50 yuan
    Case("tekun 59", [person(birth_date=dt.date(1966, 7, 1), income_monthly=0)], {"tekun": (False, None)}),
    Case("tekun earning adult at home", [person(birth_date=dt.date(1950, 1, 1)),
                                         person(birth_date=dt.date(1990, 1, 1), income_monthly=STD)],
         {"tekun": (False, None)}),
    Case("tekun adult earning under", [person(birth_date=dt.date(1950, 1, 1)),
                                       person(birth_date=dt.date(1990, 1, 1), income_monthly=STD - 1)],
         {"tekun": (True, 155350)}),
    Case("tekun child of 15", [person(birth_date=dt.date(2010, 7, 1), income_monthly=0)], {"tekun": (True, 155350)}),
    Case("tekun child turns 16 today", [person(birth_date=dt.date(2010, 6, 30), income_monthly=0)],
         {"tekun": (False, None)}),
    # 临时救助: previous household income > 0 and now less than half of it
    Case("temp relief just under half", [person(income_monthly=99999)], {"temp_relief": (True, 3 * STD)},
         previous_income=[200000]),
    Case("temp relief exactly half", [person(income_monthly=100000)], {"temp_relief": (False, None)},
         previous_income=[200000]),
    Case("temp relief no previous", [person(income_monthly=0)], {"temp_relief": (False, None)}),
    # 高龄津贴: 80 on the birthday; 90+ gets more, raised on 2026-07-01; 29 February births
    Case("elderly turns 80 today", [person(birth_date=dt.date(1946, 6, 30), income_monthly=900000)],
         {"elderly_allowance": (True, 5000)}),
    Case("elderly 79", [person(birth_date=dt.date(1946, 7, 1), income_monthly=900000)],
         {"elderly_allowance": (False, None)}),
    Case("elderly 90 before the raise", [person(birth_date=dt.date(1936, 6, 30), income_monthly=900000)],
         {"elderly_allowance": (True, 10000)}),
    Case("elderly 90 on the raise", [person(birth_date=dt.date(1936, 6, 30), income_monthly=900000)],
         {"elderly_allowance": (True, 15000)}, as_of=CHANGE),
    Case("elderly not alive", [person(birth_date=dt.date(1930, 1, 1), alive=False, income_monthly=900000)],
         {"elderly_allowance": (False, None)}),
    Case("born 29 Feb, 28 Feb of a leap year", [person(birth_date=dt.date(1948, 2, 29), income_monthly=900000)],
         {"elderly_allowance": (False, None)}, as_of=dt.date(2028, 2, 28)),
    Case("born 29 Feb, on 29 Feb", [person(birth_date=dt.date(1948, 2, 29), income_monthly=900000)],
         {"elderly_allowance": (True, 5000)}, as_of=dt.date(2028, 2, 29)),
    Case("born 29 Feb, 28 Feb of a common year", [person(birth_date=dt.date(1947, 3, 1), income_monthly=900000),
                                                 person(birth_date=dt.date(1946, 2, 28), income_monthly=900000)],
         {"elderly_allowance": (False, None)}, as_of=dt.date(2027, 2, 28)),  # first member 79
    # 困难残疾人生活补贴 and 重度残疾人护理补贴
    Case("disabled in a dibao household", [person(disability_grade=4, income_monthly=0)],
         {"disability_living": (True, 17000), "disability_care": (False, None)}),
    Case("severely disabled, not poor", [person(disability_grade=2, income_monthly=900000)],
         {"disability_living": (False, None), "disability_care": (True, 20000)}),
    Case("grade 3 not severe", [person(disability_grade=3, income_monthly=900000)], {"disability_care": (False, None)}),
    Case("no certificate", [person(disability_grade=None, income_monthly=0)],
         {"disability_living": (False, None), "disability_care": (False, None)}),
    # 教育救助, 医疗救助
    Case("student in a dibao household", [person(is_student=True, birth_date=dt.date(2012, 1, 1), income_monthly=0)],
         {"education_aid": (True, 15000), "medical_aid": (True, None)}),
    Case("student, not poor", [person(is_student=True, income_monthly=900000)], {"education_aid": (False, None)}),
    # 就业援助: unemployed, 16 to 60 (men) / 55 (women), disabled, dibao or 4050
    Case("unemployed man of 59 with a disability",
         [person(birth_date=dt.date(1966, 7, 1), employment_status="unemployed", disability_grade=3,
                 income_monthly=900000)], {"employment_aid": (True, None)}),
    Case("unemployed man turns 60 today",
         [person(birth_date=dt.date(1966, 6, 30), employment_status="unemployed", income_monthly=900000)],
         {"employment_aid": (False, None)}),
    Case("unemployed woman of 40", [person(sex="F", birth_date=dt.date(1986, 6, 30),
                                           employment_status="unemployed", income_monthly=900000)],
         {"employment_aid": (True, None)}),
    Case("unemployed woman of 39", [person(sex="F", birth_date=dt.date(1986, 7, 1),
                                           employment_status="unemployed", income_monthly=900000)],
         {"employment_aid": (False, None)}),
    Case("unemployed man of 49", [person(birth_date=dt.date(1977, 1, 1), employment_status="unemployed",
                                         income_monthly=900000)], {"employment_aid": (False, None)}),
]


def _population(cases: list[Case]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]],
                                            dict[tuple[str, int], tuple[str, bool, int | None]]]:
    persons, households, previous = [], [], []
    expected: dict[tuple[str, int], tuple[str, bool, int | None]] = {}
    pid = 0
    for hid, case in enumerate(cases, start=1):
        households.append({"id": hid, "region_code": case.region, **{**HH, **case.household}})
        first = pid + 1
        for k, mem in enumerate(case.members):
            pid += 1
            persons.append({"region_code": case.region, "hukou_region_code": case.region, **mem,
                            "id": pid, "household_id": hid})
            if case.previous_income is not None:
                previous.append({**persons[-1], "income_monthly": case.previous_income[k]})
        for policy, (eligible, amount) in case.expect.items():
            unit = DEMO.get(policy).unit
            expected[(policy, hid if unit == "household" else first)] = (case.name, eligible, amount)
    return persons, households, previous, expected


@pytest.fixture(scope="module")
def pg() -> Iterator[backends.PostgresViews | None]:
    url = backends.postgres_url()
    if url is None:
        yield None
        return
    views = backends.PostgresViews(url)
    yield views
    views.close()


@pytest.mark.parametrize("as_of", sorted({c.as_of for c in CASES}))
def test_demo_policies_give_the_hand_computed_outcomes(pg: backends.PostgresViews | None, as_of: dt.date) -> None:
    cases = [c for c in CASES if c.as_of == as_of]
    persons, households, previous, expected = _population(cases)
    results = {"reference": backends.run_reference(DEMO, persons, households, previous, as_of, None),
               **backends.run_all(DEMO, persons, households, previous, as_of, None, pg)}
    assert {"reference", "polars", "duckdb"} <= set(results)
    for backend, outcomes in results.items():
        wrong = [(name, key, outcomes.get(key)) for key, (name, eligible, amount) in expected.items()
                 if outcomes.get(key) is None or outcomes[key][0] != eligible or outcomes[key][2] != amount]
        assert not wrong, f"{backend}: {wrong}"


def test_the_bitmap_names_the_failed_criteria() -> None:
    case = Case("income met, vehicle not", [person(income_monthly=0)], {}, household={"vehicles": 1})
    persons, households, previous, _ = _population([case])
    out = backends.run_reference(DEMO, persons, households, previous, BEFORE, None)
    # dibao criteria in order: income, assets, no_vehicle, housing → bits 0, 1, 3
    assert out[("dibao", 1)] == (False, 0b1011, None)
