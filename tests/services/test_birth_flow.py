"""出生一件事 end to end through the API with the demo cast: one application with prefill, five
officers of five departments deciding in dependency order, the newborn in the registry, the
certificates in the parents' wallets (verified online and offline), the notices in the inbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from tests.services.conftest import birth_data
from tongban.registry.identifiers import validate_resident_id
from tongban.registry.models import BenefitEnrolment, Guardianship, HouseholdMember, Person
from tongban.services.certificates import verify_document


def decide_next(client, headers, application_id: int, decision: str = "approve", **extra: Any):  # type: ignore[no-untyped-def]
    queue = client.get("/api/v1/workbench/tasks?status=ready", headers=headers)
    assert queue.status_code == 200, queue.text
    mine = [t for t in queue.json()["items"] if t["application_id"] == application_id]
    assert len(mine) == 1, queue.json()
    task = mine[0]
    resp = client.post(f"/api/v1/workbench/tasks/{task['id']}/decision", headers=headers,
                       json={"decision": decision, "version": task["version"], **extra})
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_birth_onething_end_to_end(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    listed = client.get("/api/v1/onethings", headers=zhang).json()["items"]
    birth = next(o for o in listed if o["id"] == "onething.birth")
    assert len(birth["items"]) == 5

    consent_id = client.post("/api/v1/onethings/onething.birth/consent", headers=zhang).json()["consent_id"]
    form = client.get(f"/api/v1/onethings/onething.birth/form?consent_id={consent_id}", headers=zhang).json()
    prefill = {k: v["value"] for k, v in form["prefill"].items()}
    assert prefill["mother_name"] == "李婷" and prefill["father_id_number"] == "330203199203150314"
    data = birth_data(**prefill)

    resp = client.post("/api/v1/applications", headers={**zhang, "Idempotency-Key": "birth-e2e-1"},
                       json={"onething_id": "onething.birth", "data": data, "consent_id": consent_id})
    assert resp.status_code == 201, resp.text
    app = resp.json()
    assert app["status"] == "submitted" and app["pack_version"]
    status = {t["item_id"]: t["status"] for t in app["tasks"]}
    assert status == {"item.birth-certificate": "ready", "item.vaccination": "ready",
                      "item.household-birth": "blocked", "item.medical-insurance": "blocked",
                      "item.social-security-card": "blocked"}
    assert all(t["due_date"] for t in app["tasks"] if t["status"] == "ready")
    assert {t["department"] for t in app["tasks"]} == {"dept.haishu.health", "dept.haishu.cdc", "dept.haishu.police",
                                                      "dept.haishu.medinsure", "dept.haishu.hrss"}

    # The police see nothing until the birth certificate is approved.
    police = login("officer.police")
    assert client.get("/api/v1/workbench/tasks?status=ready", headers=police).json()["items"] == []
    decide_next(client, login("officer.health"), app["id"])
    decide_next(client, login("officer.cdc"), app["id"])
    accepted = decide_next(client, police, app["id"])  # 受理
    assert accepted["status"] == "claimed"
    # 审批分离: the officer who accepted may not approve; another officer of the police does.
    again = client.get("/api/v1/workbench/tasks?status=ready", headers=police).json()["items"]
    task = next(t for t in again if t["application_id"] == app["id"])
    refused = client.post(f"/api/v1/workbench/tasks/{task['id']}/decision", headers={**police, "Accept-Language": "zh-CN"},
                          json={"decision": "approve", "version": task["version"]})
    assert refused.status_code == 409 and refused.json()["field"] == "decision", refused.text
    assert "受理" in refused.json()["detail"] and "审批" in refused.json()["detail"], refused.text
    hukou = decide_next(client, login("officer.police2"), app["id"])  # 审批
    assert hukou["status"] == "approved"
    newborn_id_number = hukou["outputs"]["newborn_id_number"]
    insurance = decide_next(client, login("officer.medinsure"), app["id"])
    assert insurance["outputs"]["enrolment_id"]
    decide_next(client, login("officer.hrss"), app["id"])

    final = client.get(f"/api/v1/applications/{app['id']}", headers=zhang).json()
    assert final["status"] == "completed"
    assert {t["status"] for t in final["tasks"]} == {"approved"}
    kinds = [e["kind"] for e in final["timeline"]]
    assert kinds[0] == "submitted" and kinds[-1] == "application.completed"
    # The insurance task received the hukou task's output (the new ID number) as its input.
    medinsure_task = next(t for t in final["tasks"] if t["item_id"] == "item.medical-insurance")
    assert medinsure_task["outputs"]["enrolment_id"] == insurance["outputs"]["enrolment_id"]

    with demo.unit_of_work() as s:
        newborn = s.scalars(select(Person).where(Person.id_number == newborn_id_number)).one()
        parsed = validate_resident_id(newborn.id_number, birth_date=dt.date.fromisoformat(data["child_birth_date"]),
                                      sex="M")
        assert parsed.area_code == "330203" and newborn.name == "张小明"
        assert s.get(HouseholdMember, (newborn.household_id, newborn.id)) is not None
        guardians = set(s.scalars(select(Guardianship.guardian_person_id)
                                  .where(Guardianship.ward_person_id == newborn.id)))
        assert len(guardians) == 2
        enrolment = s.scalars(select(BenefitEnrolment).where(BenefitEnrolment.subject_id == newborn.id)).one()
        assert enrolment.benefit_code == "medinsure.resident"

    for parent in ("resident.zhang", "resident.li"):
        wallet = client.get("/api/v1/me/certificates", headers=login(parent)).json()["items"]
        assert sorted(c["type_code"] for c in wallet if c["holder"]["relation"] == "ward") == [
            "cert.birth-medical", "cert.household-page", "cert.social-security-card", "cert.vaccination"]

    keys = client.get("/api/v1/keys/public", headers=zhang).json()["items"]
    public = {k["kid"]: k["public_key_pem"] for k in keys}
    for c in wallet:
        online = client.get(f"/api/v1/certificates/{c['id']}/verify").json()
        assert online["valid"] is True, online
        doc = client.get(f"/api/v1/me/certificates/{c['id']}/document", headers=zhang).json()
        assert doc["holder_code"] == newborn_id_number
        assert verify_document(doc, public) is True

    messages = client.get("/api/v1/me/messages", headers=zhang).json()["items"]
    assert [m["kind"] for m in messages] == ["rating.invite", "application.finished", "application.submitted"]
    assert messages[0]["link"] == f"/ratings/rate/application/{app['id']}"  # 请评价 (ratings, services.completed)
    assert messages[1]["params"]["status"] == "completed"
