"""Polars, DuckDB and PostgreSQL agree, subject by subject, with the reference evaluator on
random populations *and* random policy trees (nulls, boundaries, 29 February births)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.policy import backends
from tests.policy.strategies import AS_OF_DAYS, policy_sets, populations
from tongban.policy import model as m
from tongban.policy.parse import read_policies
from tongban.policy.reference import render

DEMO = read_policies("packs/demo")


@pytest.fixture(scope="module")
def pg() -> Iterator[backends.PostgresViews | None]:
    url = backends.postgres_url()
    if url is None:
        yield None  # the SQLite leg of the suite; the PostgreSQL leg runs the SQL there
        return
    views = backends.PostgresViews(url)
    yield views
    views.close()


def _assert_same(policies: m.PolicySet, expected: backends.Outcomes, got: dict[str, backends.Outcomes]) -> None:
    for backend, outcomes in got.items():
        if outcomes != expected:
            diff = sorted(k for k in set(expected) | set(outcomes) if expected.get(k) != outcomes.get(k))
            where = diff[0]
            policy = policies.get(where[0])
            text = "; ".join(f"{c.id}: {render(c.expr)}" for c in policy.criteria)
            amount = render(policy.amount) if policy.amount is not None else "-"
            pytest.fail(f"{backend} differs from the reference at {where}: {outcomes.get(where)} != "
                        f"{expected.get(where)} ({len(diff)} subjects)\n{policy.unit} policy: {text}; amount: {amount}")


@settings(max_examples=50, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(population=populations(), policies=policy_sets(), as_of=st.sampled_from(AS_OF_DAYS),
       region=st.sampled_from([None, "3302", "330203", "330203004002"]))
def test_backends_agree_with_the_reference_on_random_policies(
        pg: backends.PostgresViews | None, population: Any, policies: m.PolicySet, as_of: dt.date,
        region: str | None) -> None:
    persons, households, previous = population
    expected = backends.run_reference(policies, persons, households, previous, as_of, region)
    _assert_same(policies, expected, backends.run_all(policies, persons, households, previous, as_of, region, pg))


@settings(max_examples=8,  # each example compiles all ten policies on every backend
           deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(population=populations(), as_of=st.sampled_from(AS_OF_DAYS))
def test_backends_agree_with_the_reference_on_the_demo_policies(
        pg: backends.PostgresViews | None, population: Any, as_of: dt.date) -> None:
    persons, households, previous = population
    expected = backends.run_reference(DEMO, persons, households, previous, as_of, None)
    _assert_same(DEMO, expected, backends.run_all(DEMO, persons, households, previous, as_of, None, pg))


def _constant_membership_policy() -> m.PolicySet:
    """A household policy whose aggregate holds a constant's membership beside a member's field
    (hypothesis found Polars' `zip_with` refusing a constant `null in [1]` inside `any(...)`)."""
    null_int = m.Lit(type="int", value=None)
    member = m.FieldRef(scope="person", name="disability_grade", type="int")
    arg = m.Cond(test=m.Lit(type="bool", value=None), type="bool",
                 then=m.Compare(op="lt", left=null_int, right=member),
                 otherwise=m.In(operand=null_int, values=(m.Lit(type="int", value=1),)))
    any_ = m.HouseholdAgg(op="any", arg=arg, type="bool")
    yes = m.HouseholdAgg(op="any", arg=m.In(operand=m.Lit(type="int", value=1), values=(m.Lit(type="int", value=1),)),
                         type="bool")
    base = DEMO.get("dibao")
    policy = base.model_copy(update={"criteria": (
        m.Criterion(id="constant_null", description=base.criteria[0].description, expr=any_),
        m.Criterion(id="constant_true", description=base.criteria[0].description, expr=yes)), "amount": None})
    return m.PolicySet(policies=(policy,), parameters=DEMO.parameters)


@settings(max_examples=5, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(population=populations(), as_of=st.sampled_from(AS_OF_DAYS))
def test_a_constant_membership_inside_an_aggregate(pg: backends.PostgresViews | None, population: Any,
                                                   as_of: dt.date) -> None:
    policies = _constant_membership_policy()
    persons, households, previous = population
    expected = backends.run_reference(policies, persons, households, previous, as_of, None)
    _assert_same(policies, expected, backends.run_all(policies, persons, households, previous, as_of, None, pg))
