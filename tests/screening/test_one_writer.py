"""One outcome writer: a screening of the registry and a screening of the same city exported as
Parquet views write the same outcomes, the same cases (a household policy's case is the
household's head, wherever the head sits in the household's person ids) and the same offers.

Before the writer was one, the Parquet path took the lowest person id as a household's case and
made no offers, so the two runs disagreed on both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select

from tests.screening.conftest import City
from tongban.core.timeutil import today_local
from tongban.policy.views import registry_snapshot
from tongban.registry.models import Household, Person
from tongban.screening import runs
from tongban.screening.bulk import long_outcomes
from tongban.screening.jobs import scheduler_principal
from tongban.screening.models import Offer, ScreeningCase, ScreeningCount


class _Undo(Exception):
    """Raised to roll a run back after reading what it wrote (its offers would block the other's)."""


def _export(session: Any, folder: Path) -> Path:
    """The registry's views as a Parquet source, the household view with its head (as an export has it)."""
    snap = registry_snapshot(session, as_of=today_local())
    snap.write_parquet(folder)
    heads = pl.DataFrame([tuple(r) for r in session.execute(select(Household.id, Household.head_person_id))],
                         schema={"id": pl.Int64, "head_person_id": pl.Int64}, orient="row")
    household = pl.read_parquet(folder / "household.parquet").join(heads, on="id", how="left")
    household.write_parquet(folder / "household.parquet")
    (folder / "source.json").write_text('{"ids": "registry"}', encoding="utf-8")  # an export of this registry
    return folder


def _run(db, settings, source: str | None, backend: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    seen: dict[str, Any] = {}
    with pytest.raises(_Undo), db.unit_of_work() as s:
        principal = scheduler_principal(s, "dept.haishu.mca", None, client_id="test")
        run = runs.screen(s, principal=principal, var_dir=settings.var_dir, req=runs.RunRequest(
            region_code="330203", source=source, backend=backend, as_of=today_local()))
        outcomes = long_outcomes(runs.outcomes_path(settings.var_dir, run.id)).collect()
        seen["outcomes"] = (outcomes.select("policy_id", "person_id", "eligible", "criteria", "amount_fen",
                                            "region_code", "enrolled").sort("policy_id", "person_id").rows())
        seen["counts"] = sorted((c.policy_id, c.region_code, c.subjects, c.eligible, c.enrolled, c.not_enrolled)
                                for c in s.scalars(select(ScreeningCount).where(ScreeningCount.run_id == run.id)))
        seen["cases"] = sorted((c.policy_id, c.person_id, c.region_code, c.criteria, c.amount_fen, c.newly_eligible)
                               for c in s.scalars(select(ScreeningCase).where(ScreeningCase.run_id == run.id)))
        seen["offers"] = sorted((o.policy_id, o.person_id, o.account_id, o.channel, o.region_code, o.apply_via)
                                for o in s.scalars(select(Offer).where(Offer.run_id == run.id)))
        seen["totals"] = {k: v for k, v in run.totals.items() if k != "alerts"}
        raise _Undo
    return seen


@pytest.mark.parametrize("backend", ["polars", "duckdb"])
def test_the_registry_and_its_parquet_export_screen_alike(db, settings, city: City, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                          backend: str) -> None:
    with db.unit_of_work() as s:
        # the head of the `under` household is its second member, not the lowest person id
        s.get_one(Household, s.get_one(Person, city.under).household_id).head_person_id = city.under_child
    with db.unit_of_work() as s:
        views = _export(s, tmp_path / "views")

    registry = _run(db, settings, None, backend)
    parquet = _run(db, settings, f"parquet:{views}", backend)

    assert registry["outcomes"] and registry["outcomes"] == parquet["outcomes"]
    assert registry["counts"] == parquet["counts"]
    assert registry["cases"] == parquet["cases"]
    assert ("dibao", city.under_child) in {(p, person) for p, person, *_ in registry["cases"]}  # the head
    assert city.under not in {person for _, person, *_ in registry["cases"]}
    assert registry["offers"] and registry["offers"] == parquet["offers"]
    assert registry["totals"] == parquet["totals"]


def test_a_city_of_other_ids_gets_no_offers(db, settings, city: City, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        views = _export(s, tmp_path / "views")
    (views / "source.json").unlink()  # not said to be this registry's: its ids may be anyone's
    parquet = _run(db, settings, f"parquet:{views}", "polars")
    assert parquet["cases"] and parquet["offers"] == [] and parquet["totals"]["offers"] == 0


def test_a_household_without_a_named_head_falls_back_to_its_lowest_person_id(db, settings, city: City,  # type: ignore[no-untyped-def]
                                                                             tmp_path: Path) -> None:
    with db.unit_of_work() as s:
        s.get_one(Household, s.get_one(Person, city.under).household_id).head_person_id = None
    registry = _run(db, settings, None, "polars")
    assert ("dibao", city.under) in {(p, person) for p, person, *_ in registry["cases"]}
    assert city.under_child not in {person for _, person, *_ in registry["cases"]}
