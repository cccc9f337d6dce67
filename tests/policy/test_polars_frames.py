"""compile_polars' other entry points and column forms agree with the reference evaluator:
`totals` and `household_plan` against `outcomes`, and a snapshot stored the compact way (narrow
integers, Enum text and regions, the previous income bound on the person row)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.policy import backends
from tests.policy.strategies import AS_OF_DAYS, REGIONS, STR_VALUES, policy_sets, populations
from tongban.policy import compile_polars as cp
from tongban.policy import model as m
from tongban.policy.parse import read_policies
from tongban.policy.views import Snapshot

DEMO = read_policies("packs/demo")
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.data_too_large])


@SETTINGS
@given(population=populations(), as_of=st.sampled_from(AS_OF_DAYS),
       region=st.sampled_from([None, "3302", "330203"]))
def test_totals_and_household_plan_agree_with_outcomes(population: Any, as_of: dt.date, region: str | None) -> None:
    persons, households, previous = population
    snap = backends.snapshot(persons, households, previous)
    long = cp.outcomes(DEMO, snap, as_of=as_of, region=region).collect()
    expected = {r["policy"]: r for r in long.group_by("policy", "unit").agg(
        subjects=pl.len().cast(pl.Int64), eligible=pl.col("eligible").sum().cast(pl.Int64),
        amount_fen=pl.col("amount_fen").filter(pl.col("eligible")).sum().cast(pl.Int64)).to_dicts()}
    got = cp.totals(DEMO, snap, as_of=as_of, region=region).collect()
    assert got["policy"].to_list() == [p.id for p in DEMO.policies]  # in the pack's order
    for row in got.to_dicts():
        empty = {**row, "subjects": 0, "eligible": 0, "amount_fen": 0}
        assert expected.get(row["policy"], empty) == row
    households_plan = cp.household_plan(DEMO, snap, as_of=as_of).collect()
    with_members = {p["household_id"] for p in persons if p["household_id"] is not None}
    assert set(households_plan["household_id"].to_list()) == with_members
    dibao = long.filter(pl.col("policy") == "dibao")
    if region is None:
        assert sorted(dibao["subject_id"].to_list()) == sorted(with_members)


def _compact(persons: list[dict[str, Any]], households: list[dict[str, Any]],
             previous: list[dict[str, Any]]) -> Snapshot:
    """The population as a registry export might store it: Int8/Int16/Int32, Enum text and
    regions, and the previous income bound on the person row (the other previous fields joined)."""
    snap = backends.snapshot(persons, households, previous)
    regions = pl.Enum(sorted({r for r in REGIONS if r is not None}))
    text = pl.Enum(sorted({"M", "F", "single", "married", "employed", "unemployed", "retired", *STR_VALUES}
                          - set(REGIONS)))
    prev = snap.previous
    assert prev is not None
    person = (snap.person.join(prev.select("id", pl.col("income_monthly").alias("previous__income_monthly")),
                               on="id", how="left")
              .with_columns(pl.col("household_id").cast(pl.Int32), pl.col("disability_grade").cast(pl.Int8),
                            pl.col("region_code").cast(regions), pl.col("sex").cast(text),
                            pl.col("employment_status").cast(text)))
    household = snap.household.with_columns(pl.col("id").cast(pl.Int32), pl.col("region_code").cast(regions),
                                            pl.col("vehicles").cast(pl.Int8), pl.col("housing_area_m2").cast(pl.Int16))
    return Snapshot(person=person, household=household, previous=prev)


@SETTINGS
@given(population=populations(), policies=st.one_of(policy_sets(), st.just(DEMO)), as_of=st.sampled_from(AS_OF_DAYS))
def test_a_compact_snapshot_gives_the_reference_outcomes(population: Any, policies: m.PolicySet,
                                                          as_of: dt.date) -> None:
    persons, households, previous = population
    expected = backends.run_reference(policies, persons, households, previous, as_of, None)
    got = cp.outcomes(policies, _compact(persons, households, previous), as_of=as_of).collect()
    assert backends.as_outcomes(got.cast({"subject_id": pl.Int64})) == expected
