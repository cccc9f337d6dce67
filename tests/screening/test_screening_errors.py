"""Bad inputs (problem+json naming the field, nothing written) and refusals of screening."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import refusals
from tests.screening.conftest import PASSWORD, City
from tests.services.conftest import DEMO_PASSWORD
from tongban.screening.models import Offer, ScreeningRun


def _token(client, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _runs(client) -> int:  # type: ignore[no-untyped-def]
    with client.app.state.db.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(ScreeningRun)) or 0)


@pytest.mark.parametrize(("body", "field"), [
    ({"policy": ["no_such_policy"]}, "policy"),
    ({"region": "999999"}, "region"),
    ({"as_of": "2026-13-45"}, "as_of"),
    ({"as_of": "2999-01-01"}, "as_of"),
    ({"backend": "excel"}, "backend"),
])
def test_bad_run_inputs_name_the_field_and_write_nothing(client, city: City, body, field) -> None:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/screening/runs", json=body,
                       headers={**_token(client, "officer.mca"), "Accept-Language": "zh-CN"})
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["field"] == field
    assert _runs(client) == 0


def test_message_is_in_the_callers_language(client, city: City) -> None:  # type: ignore[no-untyped-def]
    officer = _token(client, "officer.mca")
    en = client.post("/api/v1/screening/runs", json={"policy": ["nope"]}, headers={**officer, "Accept-Language": "en"})
    zh = client.post("/api/v1/screening/runs", json={"policy": ["nope"]},
                     headers={**officer, "Accept-Language": "zh-CN"})
    assert en.json()["detail"] == "No such policy"
    assert zh.json()["detail"] != en.json()["detail"]


@pytest.mark.parametrize(("username", "body"), [
    ("resident.zhang", {}),  # a resident
    ("officer.health", {"policy": ["dibao"]}),  # staff whose department holds no household grant
    ("officer.jiangbei", {"region": "330203"}),  # staff of another district
])
def test_who_may_not_screen(client, city: City, username: str, body: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    resp = client.post("/api/v1/screening/runs", json=body, headers=_token(client, username))
    assert resp.status_code == 403, resp.text
    assert _runs(client) == 0


def test_offers_explanations_and_alerts_are_guarded(client, city: City) -> None:  # type: ignore[no-untyped-def]
    officer = _token(client, "officer.mca")
    assert client.post("/api/v1/screening/runs", json={}, headers=officer).status_code == 201
    with client.app.state.db.unit_of_work() as s:
        offer_id = s.scalar(select(Offer.id).where(Offer.person_id == city.under))
    over = _token(client, "resident.over", PASSWORD)
    # another resident's offer does not exist for them
    missing = client.post("/api/v1/me/offers/999999/accept", json={"consent": True}, headers=over)
    theirs = client.post(f"/api/v1/me/offers/{offer_id}/accept", json={"consent": True}, headers=over)
    assert theirs.status_code == missing.status_code == 404 and theirs.json()["title"] == missing.json()["title"]
    # both refusals audited (one event for the first, the second counted with it: tests.factories.refusals)
    assert sum(e["count"] for e in refusals(client.app.state.db) if e["needed"] == "offer.own") == 2
    # staff of another district neither see explanations nor alerts of Haishu
    jiangbei = _token(client, "officer.jiangbei")
    assert client.get(f"/api/v1/screening/explanations?person_id={city.under}&policy=dibao",
                      headers=jiangbei).status_code == 403
    assert client.get("/api/v1/screening/alerts?region=330203", headers=jiangbei).status_code == 403
    # staff whose department holds no grant on the person view do not list the cases
    run_id = client.get("/api/v1/screening/runs", headers=officer).json()["items"][0]["id"]
    cases = client.get(f"/api/v1/screening/runs/{run_id}/cases", headers=officer)
    assert cases.status_code == 200 and city.under in {c["person_id"] for c in cases.json()["items"]}
    tax = _token(client, "officer.tax")
    assert client.get(f"/api/v1/screening/runs/{run_id}/cases", headers=tax).status_code == 403
    # a resident has no visit list; a bad explanation policy names its field
    assert client.get("/api/v1/screening/visits", headers=over).status_code == 403
    bad = client.get(f"/api/v1/screening/explanations?person_id={city.under}&policy=nope", headers=officer)
    assert (bad.status_code, bad.json()["field"]) == (422, "policy")


def test_alert_transitions_are_checked_and_audited(client, city: City) -> None:  # type: ignore[no-untyped-def]
    from tongban.core.audit.models import AuditEvent

    officer = _token(client, "officer.mca")
    client.post("/api/v1/screening/runs", json={}, headers=officer)
    alert = client.get("/api/v1/screening/alerts", headers=officer).json()["items"][0]
    url = f"/api/v1/screening/alerts/{alert['id']}"
    stale = client.post(f"{url}/acknowledge", json={"version": alert["version"] + 1}, headers=officer)
    assert (stale.status_code, stale.json()["field"]) == (409, "version")
    no_note = client.post(f"{url}/close", json={"version": alert["version"]}, headers=officer)
    assert (no_note.status_code, no_note.json()["field"]) == (422, "note")
    bad = client.post(f"{url}/escalate", json={"version": alert["version"]}, headers=officer)
    assert (bad.status_code, bad.json()["field"]) == (422, "action")
    ack = client.post(f"{url}/acknowledge", json={"version": alert["version"]}, headers=officer)
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    again = client.post(f"{url}/acknowledge", json={"version": ack.json()["version"]}, headers=officer)
    assert again.status_code == 409
    closed = client.post(f"{url}/close", json={"version": ack.json()["version"], "note": "已入户核实，纳入临时救助"},
                         headers=officer)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    with client.app.state.db.unit_of_work() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.subject == f"risk_alert:{alert['id']}")
                                       .order_by(AuditEvent.id)))
    assert actions == ["alert.acknowledge", "alert.close"]


def test_decline_and_visit_outcomes(client, city: City) -> None:  # type: ignore[no-untyped-def]
    officer = _token(client, "officer.mca")
    client.post("/api/v1/screening/runs", json={}, headers=officer)
    under = _token(client, "resident.under", PASSWORD)
    offers = client.get("/api/v1/me/offers", headers=under).json()["items"]
    assert [o["policy_id"] for o in offers] == ["dibao"]
    declined = client.post(f"/api/v1/me/offers/{offers[0]['id']}/decline", headers=under)
    assert declined.json()["status"] == "declined"
    assert client.post(f"/api/v1/me/offers/{offers[0]['id']}/decline", headers=under).status_code == 409
    grid = _token(client, "grid.nanmen")
    visit = next(v for v in client.get("/api/v1/screening/visits", headers=grid).json()["items"]
                 if v["person_id"] == city.no_account)
    bad = client.post(f"/api/v1/screening/offers/{visit['offer_id']}/visit", json={"outcome": "maybe"}, headers=grid)
    assert (bad.status_code, bad.json()["field"]) == (422, "outcome")
    seen = client.post(f"/api/v1/screening/offers/{visit['offer_id']}/visit", json={"outcome": "seen"}, headers=grid)
    assert seen.json()["status"] == "seen"
    take_up = client.get("/api/v1/screening/take-up?level=12", headers=officer).json()["items"]
    row = next(r for r in take_up if r["policy_id"] == "dibao" and r["region_code"] == "330203001001")
    assert row["declined"] == 1 and row["applied"] == 0 and row["take_up_rate"] == 0.0
    # the declined offer is not made again on the next run
    client.post("/api/v1/screening/runs", json={}, headers=officer)
    assert client.get("/api/v1/me/offers", headers=under).json()["items"] == []


def test_cli_screen_runs_and_refuses_bad_input(cli, city: City) -> None:  # type: ignore[no-untyped-def]
    ok = cli("screen", "--department", "dept.haishu.mca", "--region", "330203", "--policy", "dibao")
    assert ok.exit_code == 0, ok.output
    assert "dibao" in ok.output and "peak memory" in ok.output
    bad = cli("screen", "--department", "dept.haishu.mca", "--as-of", "2026-02-30")
    assert bad.exit_code == 2 and "as_of" in bad.output


def test_every_backend_finds_the_same_cases(client, city: City) -> None:  # type: ignore[no-untyped-def]
    from tongban.screening.models import ScreeningCase

    officer = _token(client, "officer.mca")
    backends = ["polars", "duckdb"]
    if client.app.state.db.is_sqlite:
        refused = client.post("/api/v1/screening/runs", json={"backend": "postgres"}, headers=officer)
        assert (refused.status_code, refused.json()["field"]) == (422, "backend")
    else:
        backends.append("postgres")
    runs = [client.post("/api/v1/screening/runs", json={"backend": b}, headers=officer).json()["id"]
            for b in backends]
    with client.app.state.db.unit_of_work() as s:
        found = [sorted((c.policy_id, c.person_id, c.criteria, c.amount_fen) for c in s.scalars(
            select(ScreeningCase).where(ScreeningCase.run_id == r))) for r in runs]
    assert found[0] and all(f == found[0] for f in found[1:])


def test_a_failed_run_leaves_no_row_and_no_files(client, city: City, settings) -> None:  # type: ignore[no-untyped-def]
    from tongban.screening.engine import policy_engine, set_engine

    real = policy_engine()

    class Failing:
        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(real, name)

        def evaluate(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("the engine broke")

    set_engine(Failing())  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        client.post("/api/v1/screening/runs", json={}, headers=_token(client, "officer.mca"))
    assert _runs(client) == 0
    assert not list((settings.var_dir / "screening").rglob("*.parquet"))
