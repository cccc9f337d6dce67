"""A screening run scoped to a region evaluates whole households and scopes the outcomes after:
household aggregates and policy references see every member wherever registered (docs/policy.md),
so `tongban screen` answers as `tongban policy eval --region` does. And a run evaluates only the
loaded pack's policies, recording the digest of each."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from tests.screening.test_screen10m import CITY_AS_OF, DEMO_PACK, demo  # noqa: F401 - the fixture
from tongban.core.errors import Conflict
from tongban.policy.evaluate import evaluate
from tongban.policy.parse import read_policies
from tongban.policy.views import HOUSEHOLD, PERSON, polars_schema
from tongban.screening import runs
from tongban.screening.bulk import long_outcomes
from tongban.screening.jobs import scheduler_principal
from tongban.screening.models import ScreeningCase, ScreeningRun

GUANGZHOU, HAISHU = "440106001001", "330203001001"


def _views(folder: Path) -> Path:
    """The issue's household: one member registered in 440106… earning 10,000 元 a month, one in
    330203… earning nothing; the household itself in 330203…, no car, little housing or assets."""
    def frame(view, rows: list[dict[str, object]]) -> pl.DataFrame:  # type: ignore[no-untyped-def]
        schema = polars_schema(view)
        return pl.DataFrame([{n: r.get(n) for n in schema} for r in rows], schema=schema)

    folder.mkdir(parents=True)
    frame(PERSON, [
        {"id": 1, "household_id": 10, "birth_date": dt.date(1980, 3, 1), "sex": "M", "region_code": GUANGZHOU,
         "alive": True, "income_monthly": 1_000_000, "assets": 0, "employment_status": "employed"},
        {"id": 2, "household_id": 10, "birth_date": dt.date(1982, 5, 1), "sex": "F", "region_code": HAISHU,
         "alive": True, "income_monthly": 0, "assets": 0, "employment_status": "unemployed"},
    ]).write_parquet(folder / "person.parquet")
    frame(HOUSEHOLD, [{"id": 10, "region_code": HAISHU, "housing_area_m2": 40, "vehicles": 0, "assets": 0}]
          ).write_parquet(folder / "household.parquet")
    return folder


@pytest.mark.parametrize("backend", ["polars", "duckdb"])
def test_a_household_with_a_member_elsewhere_is_screened_whole(db, demo, settings, tmp_path: Path,  # noqa: F811
                                                              backend: str) -> None:  # type: ignore[no-untyped-def]
    views = _views(tmp_path / "views")
    # `tongban policy eval --region 330203`: the household's income per member is 5,000 元: not 低保.
    expected = evaluate(read_policies(DEMO_PACK).subset(["dibao"]), views, as_of=CITY_AS_OF, region="330203",
                        backend=backend)  # type: ignore[arg-type]
    assert expected.filter(pl.col("policy") == "dibao")["eligible"].to_list() == [False]

    with db.unit_of_work() as s:
        principal = scheduler_principal(s, "dept.haishu.mca", None, client_id="test")
        run = runs.screen(s, principal=principal, var_dir=settings.var_dir, req=runs.RunRequest(
            source=f"parquet:{views}", as_of=CITY_AS_OF, backend=backend, region_code="330203",
            policy_ids=["dibao"]))
        outcomes = long_outcomes(runs.outcomes_path(settings.var_dir, run.id)).collect()
        # outcomes are the region's: the member in 440106… is read but not screened
        assert outcomes.select("person_id", "eligible").rows() == [(2, False)]
        assert not list(s.scalars(select(ScreeningCase).where(ScreeningCase.run_id == run.id)))
        assert run.totals["subjects"] == 1


def test_a_run_records_the_digest_of_every_policy_it_evaluated(db, demo, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    views = _views(tmp_path / "views")
    digests = read_policies(DEMO_PACK).digests()
    with db.unit_of_work() as s:
        principal = scheduler_principal(s, "dept.haishu.mca", None, client_id="test")
        run = runs.screen(s, principal=principal, var_dir=settings.var_dir, req=runs.RunRequest(
            source=f"parquet:{views}", as_of=CITY_AS_OF, policy_ids=["dibao", "tekun"]))
        assert run.policy_hashes == {p: digests[p] for p in run.policy_hashes}
        assert {"dibao", "tekun"} <= set(run.policy_hashes)


def test_policy_files_that_differ_from_the_loaded_pack_are_refused(db, demo, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    import shutil

    from tongban.screening.engine import PolicyEngine, set_engine

    views = _views(tmp_path / "views")
    edited = tmp_path / "pack"
    shutil.copytree(DEMO_PACK, edited)
    policy_file = edited / "policies" / "assistance.yaml"
    text = policy_file.read_text(encoding="utf-8")
    assert "expr: household.vehicles == 0" in text
    policy_file.write_text(text.replace("expr: household.vehicles == 0", "expr: household.vehicles <= 1"),
                           encoding="utf-8")
    set_engine(PolicyEngine(edited))  # the files changed after the pack was loaded
    with db.unit_of_work() as s:
        principal = scheduler_principal(s, "dept.haishu.mca", None, client_id="test")
        before = len(list(s.scalars(select(ScreeningRun))))
        with pytest.raises(Conflict) as refused:
            runs.screen(s, principal=principal, var_dir=settings.var_dir, req=runs.RunRequest(
                source=f"parquet:{views}", as_of=CITY_AS_OF, policy_ids=["dibao"]))
        assert refused.value.field == "policy" and refused.value.params["policy"] == "dibao"
        assert len(list(s.scalars(select(ScreeningRun)))) == before
        # a policy the edit did not touch still runs
        run = runs.screen(s, principal=principal, var_dir=settings.var_dir, req=runs.RunRequest(
            source=f"parquet:{views}", as_of=CITY_AS_OF, policy_ids=["elderly_allowance"]))
        assert set(run.policy_hashes or {}) == {"elderly_allowance"}


def test_a_registry_run_sees_the_members_registered_elsewhere(client, city) -> None:  # type: ignore[no-untyped-def]
    from tests.screening.conftest import _household
    from tests.screening.test_screening_flow import _token
    from tests.services.conftest import DEMO_PASSWORD
    from tongban.registry.models import Person

    with client.app.state.db.unit_of_work() as s:
        earner, home = _household(s, "H330203009906", [("己一", 300_000, 300_000), ("己二", 0, 0)])
        s.get_one(Person, earner).region_code = "330205001001"  # registered in 江北区, outside the run's region
    resp = client.post("/api/v1/screening/runs", json={"region": "330203", "policy": ["dibao"]},
                       headers=_token(client, "officer.mca", DEMO_PASSWORD))
    assert resp.status_code == 201, resp.text
    run = resp.json()
    # 3,000 元 a month for two is 1,500 元 each: above the 1,118 元 line, so not a case
    with client.app.state.db.unit_of_work() as s:
        cases = {c.person_id for c in s.scalars(select(ScreeningCase).where(ScreeningCase.run_id == run["id"]))}
    assert home not in cases and earner not in cases and city.under in cases
    outcomes = long_outcomes(runs.outcomes_path(client.app.state.settings.var_dir, run["id"])).collect()
    assert earner not in outcomes["person_id"].to_list()  # read, but screened where registered
    assert outcomes.filter(pl.col("person_id") == home)["eligible"].to_list() == [False]
