"""The engine's rules through the API: consent before prefill, bad input refused whole, who may
read and decide, optimistic locking, idempotent submission, withdrawal, rejection cascades,
补正, and the savings served with the form."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import event, func, select

from tests.services.conftest import birth_data
from tongban.core.audit.models import AuditEvent
from tongban.messages.models import Message
from tongban.services.models import Application, Task


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def submit(client, headers, key: str = "k-1", **data: Any):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/applications", headers={**headers, "Idempotency-Key": key},
                       json={"onething_id": "onething.birth", "data": birth_data(**data)})


def task_of(app: dict[str, Any], item_id: str) -> dict[str, Any]:
    return next(t for t in app["tasks"] if t["item_id"] == item_id)


def decide(client, headers, task: dict[str, Any], decision: str = "approve", **extra: Any):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/workbench/tasks/{task['id']}/decision", headers=headers,
                       json={"decision": decision, "version": task["version"], **extra})


def fresh(client, headers, app_id: int, item_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return task_of(client.get(f"/api/v1/applications/{app_id}", headers=headers).json(), item_id)


# --- prefill and consent -------------------------------------------------------------------------


def test_without_consent_the_form_has_no_prefill_and_nothing_is_read_or_audited(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    before = count(demo, AuditEvent)
    form = client.get("/api/v1/onethings/onething.birth/form", headers=zhang)
    assert form.status_code == 200
    assert form.json()["prefill"] == {}
    assert "child_name" in form.json()["schema"]["properties"]
    assert count(demo, AuditEvent) == before


def test_with_consent_the_prefilled_fields_and_their_sources_are_right(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    li = login("resident.li")  # the mother applies: she is the mother, her husband the father
    consent = client.post("/api/v1/onethings/onething.birth/consent", headers=li).json()["consent_id"]
    before = count(demo, AuditEvent)
    prefill = client.get(f"/api/v1/onethings/onething.birth/form?consent_id={consent}", headers=li).json()["prefill"]
    assert prefill == {
        "mother_name": {"value": "李婷", "source": "ds.person.name", "of": "mother"},
        "mother_id_number": {"value": "330203199408210421", "source": "ds.person.id_number", "of": "mother"},
        "father_name": {"value": "张明", "source": "ds.person.name", "of": "father"},
        "father_id_number": {"value": "330203199203150314", "source": "ds.person.id_number", "of": "father"},
        "applicant_phone": {"value": "13800000102", "source": "ds.person.phone", "of": "applicant"},
        "household_number": {"value": "H330203000101", "source": "ds.household.household_number", "of": "household"},
    }
    with demo.unit_of_work() as s:
        reads = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "prefill.read")))
    assert len(reads) == count(demo, AuditEvent) - before == 4  # applicant/mother, father, household — one each
    assert {r.purpose for r in reads} == {"prefill"}


def test_another_residents_consent_does_not_open_the_prefill(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    consent = client.post("/api/v1/onethings/onething.birth/consent", headers=login("resident.li")).json()["consent_id"]
    resp = client.get(f"/api/v1/onethings/onething.birth/form?consent_id={consent}", headers=login("resident.chen"))
    assert resp.status_code == 404 and resp.json()["field"] == "consent_id"


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("override", "field"), [
    ({"mother_id_number": "330203199408210422"}, "data.mother_id_number"),  # wrong check character
    ({"child_name": None}, "data.child_name"),  # missing
    ({"child_sex": "X"}, "data.child_sex"),
    ({"applicant_phone": "12345"}, "data.applicant_phone"),
    ({"child_birth_date": "2999-01-01"}, "data.child_birth_date"),
    ({"favourite_colour": "blue"}, "data.favourite_colour"),
])
def test_bad_input_is_refused_with_the_field_named_and_nothing_stored(client, login, demo, override, field) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    before = count(demo, AuditEvent)
    resp = submit(client, zhang, **override)
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["field"] == field
    assert count(demo, Application) == count(demo, Task) == count(demo, Message) == 0
    assert count(demo, AuditEvent) == before


def test_a_submission_without_an_idempotency_key_is_refused(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/applications", headers=login("resident.zhang"),
                       json={"onething_id": "onething.birth", "data": birth_data()})
    assert resp.status_code == 422 and resp.json()["field"] == "Idempotency-Key"
    assert count(demo, Application) == 0


# --- who may read and decide ---------------------------------------------------------------------


def test_only_the_applicant_and_involved_departments_read_an_application(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app = submit(client, login("resident.zhang")).json()
    url = f"/api/v1/applications/{app['id']}"
    assert client.get(url, headers=login("resident.zhang")).status_code == 200
    assert client.get(url, headers=login("officer.police")).status_code == 200
    assert client.get(url, headers=login("resident.chen")).status_code == 404  # not a party: "no such" (issue #18 item 6)
    assert client.get(url, headers=login("officer.mca")).status_code == 404


def test_an_officer_cannot_decide_another_departments_task(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app = submit(client, login("resident.zhang")).json()
    task = task_of(app, "item.birth-certificate")
    resp = decide(client, login("officer.cdc"), task)
    assert resp.status_code == 403
    assert fresh(client, login("resident.zhang"), app["id"], "item.birth-certificate")["status"] == "ready"
    assert task["id"] not in [t["id"] for t in client.get("/api/v1/workbench/tasks", headers=login("officer.cdc"))
                              .json()["items"]]


def test_a_stale_version_is_refused_with_409(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app = submit(client, login("resident.zhang")).json()
    police_task_app = task_of(app, "item.birth-certificate")
    health = login("officer.health")
    stale = {**police_task_app, "version": police_task_app["version"] - 1 if police_task_app["version"] > 1 else 99}
    resp = decide(client, health, stale)
    assert resp.status_code == 409
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["field"] == "version"
    assert decide(client, health, police_task_app).status_code == 200
    assert decide(client, health, police_task_app).status_code == 409  # the same version again


def test_two_concurrent_decisions_give_one_200_and_one_409(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app = submit(client, login("resident.zhang")).json()
    task = task_of(app, "item.vaccination")
    cdc = login("officer.cdc")
    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(lambda d: decide(client, cdc, task, d, reason="x").status_code,
                                ["approve", "reject"]))
    assert codes == [200, 409]


def test_twenty_parallel_submissions_with_one_key_create_one_application(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(lambda _: submit(client, zhang, "same-key"), range(20)))
    assert sorted({r.status_code for r in responses}) in ([200, 201], [201])
    assert [r.status_code for r in responses].count(201) == 1
    assert len({r.json()["id"] for r in responses}) == 1
    assert count(demo, Application) == 1 and count(demo, Task) == 5


def test_a_repeat_returns_200_and_the_same_application_and_another_body_is_409(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    first = submit(client, zhang, "again")
    second = submit(client, zhang, "again")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    other = submit(client, zhang, "again", child_name="张小红")
    assert other.status_code == 409 and other.json()["field"] == "Idempotency-Key"
    assert count(demo, Application) == 1


def test_a_repeat_is_answered_as_a_repeat_even_where_its_checks_would_now_refuse_it(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    li = login("resident.li")
    consent_id = client.post("/api/v1/onethings/onething.birth/consent", headers=li).json()["consent_id"]
    body = {"onething_id": "onething.birth", "data": birth_data(), "consent_id": consent_id}
    first = client.post("/api/v1/applications", headers={**li, "Idempotency-Key": "once"}, json=body)
    # The consent is used now, which refuses a new submission with it, but not this repeat.
    again = client.post("/api/v1/applications", headers={**li, "Idempotency-Key": "once"}, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    # Another body under the key is a key conflict, even one the form checks would refuse.
    bad = {**body, "data": birth_data(child_sex="X")}
    other = client.post("/api/v1/applications", headers={**li, "Idempotency-Key": "once"}, json=bad)
    assert other.status_code == 409 and other.json()["field"] == "Idempotency-Key"
    assert count(demo, Application) == 1


def test_a_birth_submission_is_at_most_seven_statements(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    """The hot path's statements (issue #6): the person, the application, its tasks, the audit
    event, the timeline event, the message and the offers it takes up; then the commit."""
    zhang = login("resident.zhang")
    assert submit(client, zhang, "warm-up").status_code == 201  # the token and the catalogue are cached now
    statements: list[str] = []
    counting = [True]

    def count_statement(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if counting[0] and not statement.startswith("BEGIN"):  # SQLite's explicit BEGIN IMMEDIATE
            statements.append(statement.split("(")[0].strip())

    def stop_at_commit(_conn) -> None:  # type: ignore[no-untyped-def]
        counting[0] = False  # the audit seal after the commit is not the request's

    event.listen(demo.engine, "before_cursor_execute", count_statement)
    event.listen(demo.engine, "commit", stop_at_commit)
    try:
        assert submit(client, zhang, "counted").status_code == 201
    finally:
        event.remove(demo.engine, "before_cursor_execute", count_statement)
        event.remove(demo.engine, "commit", stop_at_commit)
    assert len(statements) <= 7, statements


# --- the flow ------------------------------------------------------------------------------------


def test_a_withdrawn_application_cannot_be_decided(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    app = submit(client, zhang).json()
    withdrawn = client.post(f"/api/v1/applications/{app['id']}/withdraw", headers=zhang)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    task = fresh(client, zhang, app["id"], "item.birth-certificate")
    assert task["status"] == "cancelled"
    assert decide(client, login("officer.health"), task).status_code == 409


def test_a_rejected_hukou_cancels_its_dependants_but_not_the_vaccination(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    app = submit(client, zhang).json()
    assert decide(client, login("officer.health"), task_of(app, "item.birth-certificate")).status_code == 200
    hukou = fresh(client, zhang, app["id"], "item.household-birth")
    resp = decide(client, login("officer.police"), hukou, "reject", reason="出生地与出生医学证明不符")
    assert resp.status_code == 200, resp.text
    now = client.get(f"/api/v1/applications/{app['id']}", headers=zhang).json()
    status = {t["item_id"]: t["status"] for t in now["tasks"]}
    assert status == {"item.birth-certificate": "approved", "item.vaccination": "ready",
                      "item.household-birth": "rejected", "item.medical-insurance": "cancelled",
                      "item.social-security-card": "cancelled"}
    notice = client.get("/api/v1/me/messages", headers=zhang).json()["items"][0]
    assert notice["kind"] == "task.rejected"
    assert notice["params"]["cancelled"] == ["item.medical-insurance", "item.social-security-card"]
    assert decide(client, login("officer.cdc"), task_of(now, "item.vaccination")).status_code == 200
    done = client.get(f"/api/v1/applications/{app['id']}", headers=zhang).json()
    assert done["status"] == "partly_completed"
    # No newborn record: the certificates are held by the applicant as guardian.
    wallet = client.get("/api/v1/me/certificates", headers=zhang).json()["items"]
    assert sorted(c["type_code"] for c in wallet) == ["cert.birth-medical", "cert.vaccination"]


def test_a_return_asks_for_a_supplement_and_the_answer_reopens_the_task(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    app = submit(client, zhang).json()
    task = task_of(app, "item.birth-certificate")
    assert decide(client, login("officer.health"), task, "return").status_code == 422  # a reason is required
    assert decide(client, login("officer.health"), task, "return", reason="出生地点请填写完整").status_code == 200
    assert client.get("/api/v1/me/messages", headers=zhang).json()["items"][0]["kind"] == "task.returned"
    bad = client.post(f"/api/v1/applications/{app['id']}/tasks/{task['id']}/supplement", headers=zhang,
                      json={"data": {"child_birth_place": "x" * 101}})
    assert bad.status_code == 422 and bad.json()["field"] == "data.child_birth_place"
    ok = client.post(f"/api/v1/applications/{app['id']}/tasks/{task['id']}/supplement", headers=zhang,
                     json={"data": {"child_birth_place": "宁波市妇女儿童医院（柳汀院区）"}})
    assert ok.status_code == 200 and ok.json()["status"] == "ready"
    again = client.get(f"/api/v1/applications/{app['id']}", headers=zhang).json()
    assert again["data"]["child_birth_place"] == "宁波市妇女儿童医院（柳汀院区）"


def test_the_birth_savings_equal_the_figures_counted_by_hand(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    # Counted from packs/demo/items/*.yaml: form fields 8+5+10+3+3 = 29, distinct elements 11;
    # materials 2+1+4+1+2 = 10, distinct 7, of which the birth certificate and the newborn's
    # household page are issued inside the one-thing → 5 asked; visits 1+1+1+1+2 = 6 → 0 online;
    # promised days 1+2+2+1+1 = 7 one after another, 1+2+1+1 = 5 along the longest chain.
    savings = client.get("/api/v1/onethings/onething.birth/form", headers=login("resident.zhang")).json()["savings"]
    assert savings == {
        "forms": {"separately": 5, "onething": 1, "saved": 4},
        "fields": {"separately": 29, "onething": 11, "saved": 18},
        "materials": {"separately": 10, "onething": 5, "saved": 5},
        "visits": {"separately": 6, "onething": 0, "saved": 6},
        "days": {"separately": 7, "onething": 5, "saved": 2},
    }
    schema = client.get("/api/v1/onethings/onething.birth/form", headers=login("resident.zhang")).json()["schema"]
    assert len(schema["properties"]) == 11
    assert schema["properties"]["child_name"]["x-items"] == [
        "item.birth-certificate", "item.vaccination", "item.household-birth", "item.medical-insurance",
        "item.social-security-card"]


def test_dates_are_iso(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app = submit(client, login("resident.zhang")).json()
    assert dt.date.fromisoformat(task_of(app, "item.vaccination")["due_date"])
