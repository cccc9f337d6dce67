"""12345 "find the caller": the operator's lookup of registered residents goes through the data
hub's staff search (the hotline's own masked-only grant for `ds.person`, its region, one
`person.search` audit event without the values), and a case attached to the found resident is
linked to their account."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from tests.services.conftest import ZHANG_ID, person_id
from tongban.cases.models import Case
from tongban.core.audit.models import AuditEvent
from tongban.registry.models import Person

ZHANG_PHONE = "13800000101"
NOISE = {"description": "楼下工地夜间施工噪音很大，影响休息", "category_id": "case.noise",
         "region_code": "330203001001", "address": "解放南路128号"}


def _elsewhere(db, phone: str) -> int:  # type: ignore[no-untyped-def]
    """A resident of Jiangbei (outside the Haishu hotline's region) sharing a phone number."""
    with db.unit_of_work() as s:
        p = Person(id_number="330205199001011234", name="江北人", sex="M", birth_date=dt.date(1990, 1, 1),
                   phone=phone, hukou_region_code="330205", region_code="330205")
        s.add(p)
        s.flush()
        return p.id


def _searches(db) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The `person.search` audit events: department and details."""
    with db.unit_of_work() as s:
        return [{"department": e.actor_department, **json.loads(e.details)} for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == "person.search").order_by(AuditEvent.id))]


def test_the_operator_finds_a_caller_by_phone_masked_and_audited_in_their_region(client, login, db):  # type: ignore[no-untyped-def]
    operator = login("hotline.haishu")
    other = _elsewhere(db, ZHANG_PHONE)
    r = client.post("/api/v1/cases/callers", headers=operator, json={"query": "138 0000 0101"})
    assert r.status_code == 200, r.text
    found = r.json()["items"]
    assert [p["id"] for p in found] == [person_id(db, ZHANG_ID)]  # not the Jiangbei resident
    assert other not in [p["id"] for p in found]
    zhang = found[0]
    assert zhang["masked"] is True and zhang["name"] != "张明" and zhang["name"].startswith("张")
    assert zhang["phone"] != ZHANG_PHONE and zhang["phone"].endswith("0101")
    assert zhang["id_number"] != ZHANG_ID
    assert zhang["marital_status"] is None  # outside the hotline's grant
    event = _searches(db)[-1]
    assert event["department"] == "dept.haishu.hotline" and event["criteria"] == ["phone"]
    assert event["via"] == "cases.intake" and event["count"] == 1
    assert event["basis"].startswith("grant")
    assert ZHANG_PHONE not in str(event)


def test_the_operator_finds_by_id_number_and_by_name_with_birth_date(client, login, db):  # type: ignore[no-untyped-def]
    operator = login("hotline.haishu")
    by_id = client.post("/api/v1/cases/callers", headers=operator, json={"query": ZHANG_ID}).json()["items"]
    assert [p["id"] for p in by_id] == [person_id(db, ZHANG_ID)]
    r = client.post("/api/v1/cases/callers", headers=operator, json={"query": "张明"})
    assert r.status_code == 422 and r.json()["field"] == "caller_birth_date"
    by_name = client.post("/api/v1/cases/callers", headers=operator,
                          json={"query": "张明", "birth_date": "1992-03-15"}).json()["items"]
    assert [p["id"] for p in by_name] == [person_id(db, ZHANG_ID)]
    assert [e["criteria"] for e in _searches(db)] == [["id_number"], ["name+birth_date"]]


def test_nothing_found_and_bad_input(client, login, db):  # type: ignore[no-untyped-def]
    operator = login("hotline.haishu")
    r = client.post("/api/v1/cases/callers", headers=operator, json={"query": "13999999999"})
    assert r.status_code == 200 and r.json()["items"] == []
    assert _searches(db)[-1]["count"] == 0
    # An ID number that fails its check digit is named as the lookup field.
    r = client.post("/api/v1/cases/callers", headers=operator, json={"query": "330203199203150315"})
    assert r.status_code == 422 and r.json()["field"] == "caller_query"


def test_the_lookup_is_the_operators(client, login, db):  # type: ignore[no-untyped-def]
    # A resident may not look people up; a department officer has no hotline permission.
    for user in ("resident.zhang", "officer.nanmen"):
        r = client.post("/api/v1/cases/callers", headers=login(user), json={"query": ZHANG_PHONE})
        assert r.status_code == 403, (user, r.text)
    assert _searches(db) == []


def test_a_case_attached_to_a_found_caller_reaches_their_account(client, login, db):  # type: ignore[no-untyped-def]
    operator, zhang = login("hotline.haishu"), login("resident.zhang")
    pid = person_id(db, ZHANG_ID)
    r = client.post("/api/v1/cases", headers=operator, json={**NOISE, "reporter_name": "张明",
                                                             "reporter_phone": ZHANG_PHONE, "caller_person_id": pid})
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["channel"] == "hotline"
    mine = client.get("/api/v1/cases/mine", headers=zhang).json()["items"]
    assert case["id"] in [c["id"] for c in mine]  # he follows it in 我要说
    received = case["timeline"][0]
    assert received["details"]["caller_account"] is True and received["details"]["caller"].startswith("person:")
    with db.unit_of_work() as s:
        read = s.scalars(select(AuditEvent).where(AuditEvent.action == "person.read")
                         .order_by(AuditEvent.id.desc())).first()
        assert read is not None and read.actor_department == "dept.haishu.hotline"
        assert json.loads(read.details)["unmasked"] is False


def test_a_caller_outside_the_region_cannot_be_attached(client, login, db):  # type: ignore[no-untyped-def]
    operator = login("hotline.haishu")
    other = _elsewhere(db, "13900001234")
    with db.unit_of_work() as s:
        before = len(list(s.scalars(select(Case.id))))
    r = client.post("/api/v1/cases", headers=operator, json={**NOISE, "caller_person_id": other})
    assert r.status_code == 422 and r.json()["field"] == "caller_person_id"
    with db.unit_of_work() as s:
        assert len(list(s.scalars(select(Case.id)))) == before  # nothing written


def test_the_lookup_permission_opens_no_record_pages(client, login, db):  # type: ignore[no-untyped-def]
    # `person.find` is the caller lookup only: not the hub's person search, records or households.
    operator = login("hotline.haishu")
    pid = person_id(db, ZHANG_ID)
    assert client.post("/api/v1/registry/persons/search", headers=operator,
                       json={"id_number": ZHANG_ID}).status_code == 403
    assert client.get(f"/api/v1/registry/persons/{pid}", headers=operator).status_code == 403
    assert client.get(f"/api/v1/registry/persons/{pid}/household", headers=operator).status_code == 403
    assert client.post(f"/api/v1/registry/persons/{pid}/unmask", headers=operator,
                       json={"purpose": "核实来电人身份"}).status_code == 403


def test_the_cli_finds_a_caller_as_the_operator(cli, demo, db):  # type: ignore[no-untyped-def]
    result = cli("cases", "callers", ZHANG_PHONE, "--as", "hotline.haishu")
    assert result.exit_code == 0, result.output
    assert str(person_id(db, ZHANG_ID)) in result.output and "1 found" in result.output
    assert "138****0101" in result.output and "张明" not in result.output and ZHANG_PHONE not in result.output
    assert [e["criteria"] for e in _searches(db)] == [["phone"]]
    refused = cli("cases", "callers", ZHANG_PHONE, "--as", "officer.nanmen")
    assert refused.exit_code != 0 and "found" not in refused.output
