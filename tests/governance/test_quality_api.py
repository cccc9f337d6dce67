"""Quality API: runs, issues, transitions and scores; who may act; bad inputs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import token_for
from tests.governance.test_quality_loop import seed_defects
from tongban.core.access import Principal
from tongban.core.audit.models import AuditEvent
from tongban.core.identity.models import Account
from tongban.core.jobs.worker import Worker
from tongban.governance.models import QualityIssue, QualityRun


def principal_of(db, username: str) -> Principal:  # type: ignore[no-untyped-def]
    from tongban.core.identity import service as identity

    with db.unit_of_work() as s:
        account = s.scalars(select(Account).where(Account.username == username)).one()
        return identity.principal_for_account(s, account)


def _run_by_api(client, db, headers, **body):  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/quality/runs", headers=headers, json=body)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    Worker(db).run_once()
    return client.get(f"/api/v1/quality/runs/{r.json()['id']}", headers=headers).json()


@pytest.fixture()
def found(db, city, client):  # type: ignore[no-untyped-def]
    """The seeded defects, found by a run the quality officer started through the API."""
    seed_defects(db, city)
    run = _run_by_api(client, db, token_for(client, "quality.bigdata"))
    assert run["status"] == "done" and run["failed_rules"] == 4
    with db.unit_of_work() as s:
        return {i.rule_id: i.id for i in s.scalars(select(QualityIssue))}


def _events(db) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).where(AuditEvent.action.like("quality.issue.%"))) or 0


def test_staff_see_only_their_departments_issues_the_officer_sees_all(found, client):  # type: ignore[no-untyped-def]
    police = client.get("/api/v1/quality/issues", headers=token_for(client, "steward.police")).json()["items"]
    assert {i["rule_id"] for i in police} == {"q.person.id-number", "q.household.head-is-person"}
    mca = client.get("/api/v1/quality/issues", headers=token_for(client, "steward.mca")).json()["items"]
    assert [i["rule_id"] for i in mca] == ["q.enrolment.deceased"]
    everyone = client.get("/api/v1/quality/issues?status=open", headers=token_for(client, "quality.bigdata"))
    assert len(everyone.json()["items"]) == 4
    r = client.get(f"/api/v1/quality/issues/{found['q.enrolment.deceased']}", headers=token_for(client, "steward.police"))
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")


def test_another_department_cannot_move_an_issue_and_nothing_changes(found, client, db):  # type: ignore[no-untyped-def]
    before = _events(db)
    issue = found["q.enrolment.deceased"]  # 民政's
    for who in ("steward.police", "officer.police", "quality.bigdata"):
        r = client.post(f"/api/v1/quality/issues/{issue}/transitions", headers=token_for(client, who),
                        json={"action": "acknowledge", "plan": "由我部门整改"})
        assert r.status_code == 403, who
        assert r.headers["content-type"].startswith("application/problem+json")
    anonymous = client.post(f"/api/v1/quality/issues/{issue}/transitions", json={"action": "acknowledge", "plan": "x"})
    assert anonymous.status_code == 401
    with db.unit_of_work() as s:
        assert s.get_one(QualityIssue, issue).status == "reported"
    assert _events(db) == before


def test_illegal_transitions_are_409_and_bad_inputs_name_the_field(found, client, db):  # type: ignore[no-untyped-def]
    h = token_for(client, "steward.police", )
    issue = found["q.person.id-number"]
    url = f"/api/v1/quality/issues/{issue}/transitions"
    before = _events(db)
    for action in ("submit", "verify"):  # not yet acknowledged
        r = client.post(url, headers=h, json={"action": action})
        assert r.status_code == 409 and r.json()["field"] == "action"
    r = client.post(url, headers={**h, "Accept-Language": "zh-CN"}, json={"action": "acknowledge", "plan": "改"})
    assert r.status_code == 422 and r.json()["field"] == "plan"
    assert "整改" in r.json()["detail"] or "计划" in r.json()["detail"]
    r = client.post(url, headers=h, json={"action": "approve"})
    assert r.status_code == 422 and r.json()["field"] == "action"
    assert _events(db) == before
    assert client.post("/api/v1/quality/issues/999999/transitions", headers=h,
                       json={"action": "submit"}).status_code == 404
    ok = client.post(url, headers=h, json={"action": "acknowledge", "plan": "逐条核对户籍档案后更正"})
    assert ok.status_code == 200 and ok.json()["status"] == "rectifying"
    again = client.post(url, headers=h, json={"action": "acknowledge", "plan": "逐条核对户籍档案后更正"})
    assert again.status_code == 409
    assert _events(db) == before + 1


def test_unknown_rule_and_dataset_ids_are_refused_and_queue_nothing(city, client, db):  # type: ignore[no-untyped-def]
    h = token_for(client, "quality.bigdata")
    assert client.get("/api/v1/quality/rules/q.nope", headers=h).status_code == 404
    assert client.get("/api/v1/quality/rules/q.person.name", headers=h).json()["kind"] == "not_null"
    for bad in ("ds.nope", "ds.case-records"):  # unknown; known but without rules
        r = client.post("/api/v1/quality/runs", headers=h, json={"dataset_id": bad})
        assert r.status_code == 422 and r.json()["field"] == "dataset_id"
    assert client.get("/api/v1/quality/scores/ds.nope", headers=h).status_code == 404
    assert client.get("/api/v1/quality/runs/424242", headers=h).status_code == 404
    r = client.get("/api/v1/quality/issues?status=lost", headers=h)
    assert r.status_code == 422 and r.json()["field"] == "status"
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(QualityRun)) == 0


def test_only_quality_officers_start_runs(city, client, db):  # type: ignore[no-untyped-def]
    for who in ("steward.police", "chen"):
        assert client.post("/api/v1/quality/runs", headers=token_for(client, who), json={}).status_code == 403
    assert client.post("/api/v1/quality/runs", json={}).status_code == 401
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(QualityRun)) == 0


def test_scores_have_history_and_show_in_the_catalog(db, city, client):  # type: ignore[no-untyped-def]
    h = token_for(client, "quality.bigdata")
    _run_by_api(client, db, h, dataset_id="ds.person")
    seed_defects(db, city)
    _run_by_api(client, db, h, dataset_id="ds.person")
    scores = client.get("/api/v1/quality/scores/ds.person", headers=h).json()
    assert [p["score"] for p in scores["history"]][0] == 100.0
    assert scores["latest"] == scores["history"][-1]["score"] < 100.0
    # one of 3 persons fails a critical rule (weight 5) of 7 rules weighing 5+3+2+1+1+2+3 = 17
    assert scores["latest"] == pytest.approx(100 * (17 - 5 / 3) / 17, abs=0.01)
    entry = client.get("/api/v1/catalog/datasets/ds.person", headers=h).json()
    assert entry["quality_score"] == scores["latest"]
    listed = client.get("/api/v1/catalog/datasets", headers=h).json()["items"]
    assert {d["id"]: d["quality_score"] for d in listed}["ds.household"] is None  # never checked
