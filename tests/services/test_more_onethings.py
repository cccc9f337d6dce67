"""The demo pack's other one-things end to end through the API with the demo cast: 困难群众救助
(street 受理/审核, district 审批, 公示 completed by the job), 残疾人证 + 两项补贴, and 二手房转移登记 +
水电气网过户; review-step levels and departments refused; an objection during the 公示."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from tongban.core.jobs import queue
from tongban.core.jobs.worker import Worker
from tongban.core.keys import keyring_for
from tongban.core.timeutil import today_local
from tongban.registry.models import BenefitEnrolment, Person
from tongban.services import notice

CHEN = {"applicant_name": "陈秀英", "applicant_id_number": "330203198511020285", "applicant_phone": "13800000103",
        "household_number": "H330203000102", "household_size": 2, "household_monthly_income_yuan": 843,
        "hardship_reason": "单亲，失业，女儿上小学", "emergency_description": "女儿住院手术，自付费用较高",
        "water_account_number": "SW3302030102", "power_account_number": "3302030000102"}
WANG = {"applicant_name": "王建国", "applicant_id_number": "330203198305090151", "applicant_phone": "13800000104",
        "household_number": "H330203000103", "disability_type": "physical", "household_monthly_income_yuan": 1500,
        "needs_daily_care": True}
SUN = {"applicant_name": "孙悦", "applicant_id_number": "330205199012300642", "applicant_phone": "13800000106",
       "seller_name": "赵志强", "seller_id_number": "330127195801230573", "property_location": "中山西路208号7幢2单元602室",
       "property_certificate_number": "浙(2015)宁波市海曙不动产权第0012345号", "contract_number": "CL2026-000123",
       "transaction_price_yuan": 2350000, "water_account_number": "SW3302030104", "power_account_number": "3302030000104",
       "gas_account_number": "RQ3302030104", "broadband_account_number": "KD057487000104"}


def apply(client, headers, onething_id: str, data: dict[str, Any], key: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/applications", headers={**headers, "Idempotency-Key": key},
                       json={"onething_id": onething_id, "data": data})
    assert resp.status_code == 201, resp.text
    return resp.json()


def decide(client, headers, app_id: int, item_id: str, decision: str = "approve", expect: int = 200,  # type: ignore[no-untyped-def]
           via: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    """Decide the task of `item_id` (read through `via`, the applicant, when the officer may not)."""
    app = client.get(f"/api/v1/applications/{app_id}", headers=via or headers)
    assert app.status_code == 200, app.text
    task = next(t for t in app.json()["tasks"] if t["item_id"] == item_id)
    resp = client.post(f"/api/v1/workbench/tasks/{task['id']}/decision", headers=headers,
                       json={"decision": decision, "version": task["version"], **extra})
    assert resp.status_code == expect, resp.text
    return resp.json()


def statuses(client, headers, app_id: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {t["item_id"]: t["status"] for t in client.get(f"/api/v1/applications/{app_id}", headers=headers)
            .json()["tasks"]}


@pytest.fixture()
def run_notice_job(demo, settings, monkeypatch, clock):  # type: ignore[no-untyped-def]
    """Run the 公示 job through the job queue as if `days` had passed since the clock's day."""
    monkeypatch.setattr(notice, "_keyring", lambda: keyring_for(settings))
    start = today_local()

    def _run(days: int) -> None:
        clock.set(start + dt.timedelta(days=days))
        with demo.unit_of_work() as s:
            queue.enqueue(s, kind=notice.JOB_KIND)
        assert Worker(demo).run_once() >= 1

    return _run


def enrolments(demo, id_number: str) -> set[str]:  # type: ignore[no-untyped-def]
    with demo.unit_of_work() as s:
        person = s.scalars(select(Person).where(Person.id_number == id_number)).one()
        return set(s.scalars(select(BenefitEnrolment.benefit_code).where(BenefitEnrolment.subject_id == person.id)))


def wallet(client, headers) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(c["type_code"] for c in client.get("/api/v1/me/certificates", headers=headers).json()["items"])


def test_assistance_onething_end_to_end(client, login, demo, run_notice_job) -> None:  # type: ignore[no-untyped-def]
    chen = login("resident.chen")
    app = apply(client, chen, "onething.assistance", CHEN, "assist-1")
    assert statuses(client, chen, app["id"]) == {"item.dibao": "ready", "item.temporary-relief": "ready",
                                                 "item.utility-relief": "blocked",
                                                 "item.medical-assistance": "blocked"}
    street, district = login("officer.mca.ximen"), login("officer.mca")
    decide(client, street, app["id"], "item.dibao")  # 受理 (street)
    decide(client, street, app["id"], "item.dibao")  # 审核 (street)
    decide(client, street, app["id"], "item.temporary-relief")  # 受理 (street)
    noticed = decide(client, district, app["id"], "item.dibao", outputs={"monthly_allowance_yuan": 1135})
    assert noticed["status"] == "public_notice"
    assert noticed["notice_ends_on"] == "2025-06-18"  # 7 calendar days after the clock's Wednesday 11 June
    assert decide(client, district, app["id"], "item.temporary-relief")["status"] == "approved"
    # Nothing of dibao takes effect during the notice; its dependants wait.
    assert statuses(client, chen, app["id"])["item.utility-relief"] == "blocked"
    run_notice_job(7)  # the last day of the notice is not over yet
    assert statuses(client, chen, app["id"])["item.dibao"] == "public_notice"
    run_notice_job(8)
    chen, district = login("resident.chen"), login("officer.mca")  # a week on: the old tokens have expired
    assert statuses(client, chen, app["id"]) == {"item.dibao": "approved", "item.temporary-relief": "approved",
                                                 "item.utility-relief": "ready", "item.medical-assistance": "ready"}
    decide(client, district, app["id"], "item.utility-relief")
    decide(client, login("officer.medinsure"), app["id"], "item.medical-assistance")
    final = client.get(f"/api/v1/applications/{app['id']}", headers=chen).json()
    assert final["status"] == "completed"
    kinds = [e["kind"] for e in final["timeline"]]
    assert "task.notice_completed" in kinds and kinds[-1] == "application.completed"
    assert wallet(client, chen) == ["cert.dibao"]
    assert enrolments(demo, CHEN["applicant_id_number"]) == {
        "assistance.dibao", "assistance.temporary", "assistance.utility-relief", "medinsure.assistance"}
    kinds = [m["kind"] for m in client.get("/api/v1/me/messages", headers=chen).json()["items"]]
    assert "task.public_notice" in kinds


def test_street_steps_refuse_the_wrong_level_department_and_street(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    chen = login("resident.chen")
    app = apply(client, chen, "onething.assistance", CHEN, "assist-2")
    # District staff may not take the street's 受理; the street office is another department;
    # civil-affairs staff of another street are outside the applicant's region.
    for who, detail in (("officer.mca", "another level"), ("officer.ximen", "another department"),
                        ("officer.mca.yuehu", "outside your region")):
        refused = decide(client, {**login(who), "Accept-Language": "en"}, app["id"], "item.dibao", expect=403, via=chen)
        assert refused["status"] == 403 and detail in refused["detail"], (who, refused)
    street = login("officer.mca.ximen")
    decide(client, street, app["id"], "item.dibao")
    decide(client, street, app["id"], "item.dibao")
    # The district's 审批 is not the street's to decide.
    refused = decide(client, {**street, "Accept-Language": "en"}, app["id"], "item.dibao", expect=403)
    assert "level" in refused["detail"]
    assert statuses(client, street, app["id"])["item.dibao"] == "claimed"


def test_an_objection_during_the_notice_sends_the_task_back(client, login, demo, run_notice_job) -> None:  # type: ignore[no-untyped-def]
    chen = login("resident.chen")
    app = apply(client, chen, "onething.assistance", CHEN, "assist-3")
    street, district = login("officer.mca.ximen"), login("officer.mca")
    decide(client, street, app["id"], "item.dibao")
    decide(client, street, app["id"], "item.dibao")
    task = decide(client, district, app["id"], "item.dibao")
    assert task["status"] == "public_notice"
    # Only staff of the department may record it, with a reason, on the current version.
    other = client.post(f"/api/v1/workbench/tasks/{task['id']}/objection", headers=login("officer.tax"),
                        json={"reason": "x", "version": task["version"]})
    assert other.status_code == 403
    blank = client.post(f"/api/v1/workbench/tasks/{task['id']}/objection", headers=district,
                        json={"reason": "  ", "version": task["version"]})
    assert blank.status_code == 422 and blank.json()["field"] == "reason"
    resp = client.post(f"/api/v1/workbench/tasks/{task['id']}/objection", headers=district,
                       json={"reason": "邻居反映申请人有未申报的经营收入", "version": task["version"]})
    assert resp.status_code == 200, resp.text
    back = resp.json()
    assert back["status"] == "claimed" and back["step"] == "approve" and back["notice_ends_on"] is None
    stale = client.post(f"/api/v1/workbench/tasks/{task['id']}/objection", headers=district,
                        json={"reason": "again", "version": task["version"]})
    assert stale.status_code == 409
    run_notice_job(30)
    chen, district = login("resident.chen"), login("officer.mca")  # a month on: the old tokens have expired
    assert statuses(client, chen, app["id"])["item.dibao"] == "claimed"
    assert enrolments(demo, CHEN["applicant_id_number"]) == set()
    rejected = decide(client, district, app["id"], "item.dibao", decision="reject", reason="核实有未申报收入")
    assert rejected["status"] == "rejected"
    assert statuses(client, chen, app["id"])["item.utility-relief"] == "cancelled"
    timeline = client.get(f"/api/v1/applications/{app['id']}", headers=chen).json()["timeline"]
    assert any(e["kind"] == "task.objection" for e in timeline)


def test_disability_onething_end_to_end(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    wang = login("resident.wang")
    app = apply(client, wang, "onething.disability", WANG, "disability-1")
    federation_street, federation = login("officer.disabled.yuehu"), login("officer.disabled")
    # The allowances wait for the certificate; 民政 sees nothing to decide yet.
    decide(client, login("officer.mca.yuehu"), app["id"], "item.disability-living-allowance", expect=409)
    decide(client, federation, app["id"], "item.disability-card", expect=403)  # 受理 is the street's
    decide(client, federation_street, app["id"], "item.disability-card")
    card = decide(client, federation, app["id"], "item.disability-card", outputs={"disability_grade": "2"})
    assert card["status"] == "approved" and card["outputs"]["certificate_id"]
    street, district = login("officer.mca.yuehu"), login("officer.mca")
    decide(client, login("officer.mca.ximen"), app["id"], "item.disability-care-allowance", expect=403, via=wang)
    for item in ("item.disability-living-allowance", "item.disability-care-allowance"):
        decide(client, street, app["id"], item)
        decide(client, street, app["id"], item)
        assert decide(client, district, app["id"], item)["status"] == "approved"
    assert client.get(f"/api/v1/applications/{app['id']}", headers=wang).json()["status"] == "completed"
    certs = client.get("/api/v1/me/certificates", headers=wang).json()["items"]
    assert [c["type_code"] for c in certs] == ["cert.disability"]
    assert certs[0]["data"]["disability_grade"] == "2"
    assert client.get(f"/api/v1/certificates/{certs[0]['id']}/verify").json()["valid"] is True
    assert enrolments(demo, WANG["applicant_id_number"]) == {"disability.living", "disability.care"}


def test_property_transfer_onething_end_to_end(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    sun = login("resident.sun")
    app = apply(client, sun, "onething.property-transfer", SUN, "property-1")
    decide(client, login("officer.planning"), app["id"], "item.property-transfer", expect=409)  # waits for the tax
    decide(client, login("officer.water"), app["id"], "item.deed-tax", expect=403)  # another department
    tax = decide(client, login("officer.tax"), app["id"], "item.deed-tax", outputs={"deed_tax_yuan": 23500})
    assert tax["status"] == "approved"
    planning = login("officer.planning")
    decide(client, planning, app["id"], "item.property-transfer")
    decide(client, planning, app["id"], "item.property-transfer")
    utilities = {"item.water-transfer": "officer.water", "item.power-transfer": "officer.power",
                 "item.gas-transfer": "officer.gas", "item.broadband-transfer": "officer.broadband"}
    assert {k: v for k, v in statuses(client, sun, app["id"]).items() if k in utilities} == dict.fromkeys(
        utilities, "ready")
    for item, officer in utilities.items():
        decide(client, login(officer), app["id"], item)
    final = client.get(f"/api/v1/applications/{app['id']}", headers=sun).json()
    assert final["status"] == "completed"
    # The utilities received the registration's output (its certificate) as their input.
    water = next(t for t in final["tasks"] if t["item_id"] == "item.water-transfer")
    assert water["status"] == "approved"
    certs = client.get("/api/v1/me/certificates", headers=sun).json()["items"]
    assert sorted(c["type_code"] for c in certs) == ["cert.deed-tax", "cert.real-estate"]
    deed = next(c for c in certs if c["type_code"] == "cert.deed-tax")
    assert deed["data"]["deed_tax_yuan"] == 23500
    # The seller is not a party: he cannot read the buyer's application.
    assert client.get(f"/api/v1/applications/{app['id']}", headers=login("resident.zhao")).status_code in (403, 404)


@pytest.mark.parametrize(("onething_id", "who", "expected"), [
    # Counted from packs/demo/items/*.yaml (see the comments in docs/onething.md):
    # dibao 7 fields / 4 materials / 2 visits / 20 days; temporary relief 5/2/1/7; utility relief
    # 6/2/1/3; medical assistance 4/2/1/3. Distinct elements 11; distinct materials 7, of which
    # the dibao certificate is issued inside → 6; longest chain dibao 20 + 3 = 23.
    ("onething.assistance", "resident.chen",
     {"forms": (4, 1), "fields": (22, 11), "materials": (10, 6), "visits": (5, 1), "days": (33, 23)}),
    # card 5/3/2/10; living allowance 5/2/1/10; care allowance 5/2/1/10. Elements 7; materials
    # 5 distinct minus the disability certificate → 4; chain 10 + 10 = 20.
    ("onething.disability", "resident.wang",
     {"forms": (3, 1), "fields": (15, 7), "materials": (7, 4), "visits": (4, 1), "days": (30, 20)}),
    # deed tax 5/2/1/0; registration 9/5/1/3; four utilities 5/2/1/1 each. Elements 13;
    # materials 6 distinct minus the deed-tax and title certificates → 4; chain 0 + 3 + 1 = 4.
    ("onething.property-transfer", "resident.sun",
     {"forms": (6, 1), "fields": (34, 13), "materials": (15, 4), "visits": (6, 1), "days": (7, 4)}),
])
def test_savings_equal_the_figures_counted_by_hand(client, login, demo, onething_id, who, expected) -> None:  # type: ignore[no-untyped-def]
    savings = client.get(f"/api/v1/onethings/{onething_id}/form", headers=login(who)).json()["savings"]
    assert {k: (v["separately"], v["onething"]) for k, v in savings.items()} == expected
    assert all(v["saved"] == v["separately"] - v["onething"] for v in savings.values())
