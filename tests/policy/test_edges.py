"""The policy engine's edges (issue #19.2) on every backend: the edge policy set (every function
of the language) over a population with unknown regions, values at the limit of the range
policies compute in, the Int32 value that overflowed DuckDB and narrow integer columns; values
beyond the range refused alike everywhere, naming the column."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.policy import backends, edges
from tongban.policy import compile_sql, reference
from tongban.policy.evaluate import evaluate
from tongban.policy.parse import read_policies
from tongban.policy.views import HOUSEHOLD, PERSON, PREVIOUS, VALUE_LIMIT, Snapshot, ValueOutOfRange

POLICIES = edges.edge_policies()


@pytest.fixture(scope="module")
def pg() -> Iterator[dict[str, backends.PostgresViews] | None]:
    url = backends.postgres_url()
    if url is None:
        yield None  # the SQLite leg of the suite; the PostgreSQL leg runs the SQL there
        return
    views = {"wide": backends.PostgresViews(url), "narrow": backends.PostgresViews(url, edges.NARROW)}
    yield views
    for v in views.values():
        v.close()


def _narrow(persons: list[dict[str, Any]], households: list[dict[str, Any]],
            previous: list[dict[str, Any]]) -> Snapshot:
    return Snapshot(person=edges.frame(persons, PERSON, narrow=True).lazy(),
                    household=edges.frame(households, HOUSEHOLD, narrow=True).lazy(),
                    previous=edges.frame(previous, PREVIOUS, narrow=True).lazy())


@pytest.mark.parametrize("wide", [True, False], ids=["at-the-limit", "narrow-columns"])
@pytest.mark.parametrize("region", [None, "3302"])
def test_the_edge_policies_agree_on_every_backend(pg: dict[str, backends.PostgresViews] | None, wide: bool,
                                                  region: str | None) -> None:
    persons, households, previous = edges.edge_population(wide=wide)
    expected = backends.run_reference(POLICIES, persons, households, previous, edges.AS_OF, region)
    got = backends.run_all(POLICIES, persons, households, previous, edges.AS_OF, region, None,
                           narrow=None if wide else _narrow(persons, households, previous))
    if pg is not None:
        views = pg["wide" if wide else "narrow"]
        views.load(persons, households, previous)
        got["postgres"] = backends.as_outcomes(views.evaluate(POLICIES, edges.AS_OF, region))
    for backend, outcomes in got.items():
        assert outcomes == expected, backend
    assert len(got) >= 5
    eligible = {k for k, v in expected.items() if v[0]}
    assert eligible and len(eligible) < len(expected)  # the population tells outcomes apart


def test_an_unknown_region_gets_the_value_for_everywhere_and_no_regions_own() -> None:
    persons, households, previous = edges.edge_population()
    ev = reference.Evaluator(POLICIES, reference.Population.of(persons, households, previous), edges.AS_OF)
    out = {(p, s): (e, c, a) for p, s, e, c, a in ev.results()}
    # person 1 (no region, born 1944): the `*` age of 60 applies; p_money is 800 yuan (`*`), not 1000
    assert out[("fn_everywhere", 1)][0] is True
    assert out[("fn_everywhere", 1)][2] == 80_000 + 15_000  # p_money (`*`) + income per member (60000+0)/2, halved
    # p_only_3302 has no value where the region is unknown: max(...) <= null is not met (bit of `max`)
    bit = list(edges.CASES).index("max")
    assert not out[("fn_person", 1)][1] & (1 << bit)
    assert out[("fn_person", 3)][1] & (1 << list(edges.CASES).index("is_null"))


# --- beyond the range: refused, naming the column, on every backend ----------------------------

OUT_OF_RANGE = [2**62 - 1, 2**62, -5 * 10**18, 2**63 - 1, -(2**63 - 1), VALUE_LIMIT + 1, -VALUE_LIMIT - 1]


def _backends_refusing(policies: Any, persons: list[dict[str, Any]], households: list[dict[str, Any]],
                       previous: list[dict[str, Any]], tmp: Path,
                       pg: dict[str, backends.PostgresViews] | None) -> dict[str, str | None]:
    """Backend → the column named by its refusal (None: it computed)."""
    out: dict[str, str | None] = {}

    def attempt(name: str, fn: Any) -> None:
        try:
            fn()
            out[name] = None
        except ValueOutOfRange as exc:
            out[name] = exc.field

    snap = backends.snapshot(persons, households, previous)
    snap.write_parquet(tmp)
    attempt("reference", lambda: backends.run_reference(policies, persons, households, previous, edges.AS_OF, None))
    attempt("polars", lambda: evaluate(policies, snap, as_of=edges.AS_OF))
    attempt("polars-enum", lambda: evaluate(policies, backends.with_enum_regions(snap), as_of=edges.AS_OF))
    attempt("duckdb", lambda: evaluate(policies, snap, as_of=edges.AS_OF, backend="duckdb"))
    attempt("duckdb-parquet", lambda: evaluate(policies, tmp, as_of=edges.AS_OF, backend="duckdb"))
    if pg is not None:
        pg["wide"].load(persons, households, previous)
        attempt("postgres", lambda: pg["wide"].evaluate(policies, edges.AS_OF, None))
    return out


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_a_value_beyond_the_range_is_refused_naming_its_column_on_every_backend(
        pg: dict[str, backends.PostgresViews] | None, tmp_path: Path, value: int) -> None:
    persons, households, previous = edges.edge_population()
    persons[6]["income_monthly"] = value
    got = _backends_refusing(POLICIES, persons, households, previous, tmp_path, pg)
    assert set(got.values()) == {"person.income_monthly"}, got


def test_household_and_previous_columns_are_checked_too(pg: dict[str, backends.PostgresViews] | None,
                                                        tmp_path: Path) -> None:
    persons, households, previous = edges.edge_population()
    households[2]["assets"] = 2**62
    policies = read_policies("packs/demo").subset(["dibao"])  # reads household assets
    assert set(_backends_refusing(policies, persons, households, previous, tmp_path / "h", pg).values()) == {
        "household.assets"}
    households[2]["assets"] = 0
    previous[0]["income_monthly"] = -(2**63 - 1)
    temp = read_policies("packs/demo").subset(["temp_relief"])  # reads previous.income_monthly
    assert set(_backends_refusing(temp, persons, households, previous, tmp_path / "p", pg).values()) == {
        "previous.income_monthly"}


def test_a_value_at_the_limit_is_computed() -> None:
    persons, households, previous = edges.edge_population()
    assert max(p["income_monthly"] or 0 for p in persons) == VALUE_LIMIT
    ev = reference.Evaluator(POLICIES, reference.Population.of(persons, households, previous), edges.AS_OF)
    assert ev.outcomes["fn_person"][3].criteria >= 0  # no refusal


def test_the_sql_range_check_reads_only_the_numbers_the_policies_read() -> None:
    only_age = read_policies("packs/demo").subset(["elderly_allowance"])
    checked = compile_sql.range_query(only_age, sources=compile_sql.table_sources())
    labels = checked[0] if checked is not None else []
    assert "person.income_monthly" not in labels and "person.id" not in labels
    labels2, _ = compile_sql.range_query(POLICIES, sources=compile_sql.table_sources()) or ([], None)
    assert {"person.income_monthly", "person.assets", "previous.income_monthly"} <= set(labels2)


# --- the reference evaluator's results(region) ---------------------------------------------------


class _CountingList(list):  # type: ignore[type-arg]
    iterations = 0

    def __iter__(self) -> Iterator[Any]:
        type(self).iterations += 1
        return super().__iter__()


def test_reference_results_by_region_look_subjects_up_instead_of_scanning_the_persons() -> None:
    persons, households, previous = edges.edge_population()
    pop = reference.Population.of(persons, households, previous)
    pop.persons = _CountingList(pop.persons)
    ev = reference.Evaluator(POLICIES, pop, edges.AS_OF)
    _CountingList.iterations = 0
    rows = ev.results("3302")
    # one pass at most, not one scan of the persons per subject (quadratic: 27 s for 20,000)
    assert _CountingList.iterations <= 1
    subjects = {(p, s) for p, s, *_ in rows}
    assert ("fn_person", 3) in subjects and ("fn_person", 1) not in subjects and ("fn_person", 9) in subjects
    assert ("fn_household", 2) in subjects and ("fn_household", 1) not in subjects
    assert all(s != 8 for p, s in subjects if p == "fn_person")  # no region: not in 3302
    assert len(ev.results()) > len(rows)


def test_edge_population_frames_are_narrow() -> None:
    persons, households, previous = edges.edge_population(wide=False)
    snap = _narrow(persons, households, previous)
    assert snap.person.collect_schema()["income_monthly"] == pl.Int32
    assert snap.person.collect_schema()["assets"] == pl.UInt32
    assert dt.date(2026, 7, 1) == edges.AS_OF
