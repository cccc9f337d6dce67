"""The daily screening job repeats the latest staff run; the demo pack's own policies and
monitoring rules screen the demo region."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

import tongban.screening.jobs  # noqa: F401 - what a worker loads (core job modules)
from tests.screening.conftest import City, load_policies
from tests.services.conftest import DEMO_PASSWORD
from tongban.core.jobs.models import Job
from tongban.core.jobs.queue import enqueue
from tongban.core.jobs.worker import Worker
from tongban.screening.engine import PolicyEngine, set_engine
from tongban.screening.models import ScreeningCase, ScreeningRun

DEMO_PACK = Path(__file__).resolve().parents[2] / "packs" / "demo"


def _token(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def test_scheduled_run_repeats_the_latest_staff_run(client, cli, city: City) -> None:  # type: ignore[no-untyped-def]
    db = client.app.state.db
    with db.unit_of_work() as s:
        enqueue(s, kind="screening.scheduled")
    Worker(db).run_once()
    with db.unit_of_work() as s:  # nobody has screened yet: nothing to repeat
        assert s.scalar(select(func.count()).select_from(ScreeningRun)) == 0
    client.post("/api/v1/screening/runs", json={"region": "330203", "policy": ["dibao"]},
                headers=_token(client, "officer.mca"))
    # (the `cli` fixture points the worker's settings at the test database and var dir)
    with db.unit_of_work() as s:
        enqueue(s, kind="screening.scheduled")
    Worker(db).run_once()
    with db.unit_of_work() as s:
        assert {j.status for j in s.scalars(select(Job).where(Job.kind == "screening.scheduled"))} == {"done"}
    with db.unit_of_work() as s:
        runs = list(s.scalars(select(ScreeningRun).order_by(ScreeningRun.id)))
        assert len(runs) == 2
        assert (runs[1].region_code, runs[1].policy_ids, runs[1].department_id) == ("330203", ["dibao"],
                                                                                     "dept.haishu.mca")
        assert runs[1].started_by == "client:screening-scheduler" and runs[1].previous_run_id == runs[0].id


def test_demo_pack_policies_screen_the_demo_region(client, city: City) -> None:  # type: ignore[no-untyped-def]
    engine = PolicyEngine(DEMO_PACK)
    set_engine(engine)
    with client.app.state.db.unit_of_work() as s:  # the city made its own policies the loaded ones: undo
        load_policies(s, engine)
    officer = _token(client, "officer.mca")
    resp = client.post("/api/v1/screening/runs", json={}, headers=officer)
    assert resp.status_code == 201, resp.text
    run = resp.json()
    assert "dibao" in run["policy_ids"] and "risk_income_halved" in run["policy_ids"]
    assert "dibao_standard" in run["parameters"]
    with client.app.state.db.unit_of_work() as s:
        cases = {(c.policy_id, c.person_id) for c in s.scalars(select(ScreeningCase))}
    assert ("dibao", city.no_account) in cases  # 600 yuan a month, alone, no car: under any demo standard
    ex = client.get(f"/api/v1/screening/explanations?person_id={city.no_account}&policy=dibao", headers=officer)
    assert ex.status_code == 200
    first = ex.json()["criteria"][0]
    assert first["met"] is True and first["texts"]["zh"].startswith("家庭月人均收入 600 元 < ")
    alerts = client.get("/api/v1/screening/alerts", headers=officer).json()["items"]
    assert {(a["person_id"], a["rule_id"]) for a in alerts} >= {(city.halved, "risk_income_halved")}
