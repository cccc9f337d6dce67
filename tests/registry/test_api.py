"""The registry API as a contract: documented routes, no identifiers in URLs or logs, staff-only
routes closed to residents, problems naming the field, the resident's own views and corrections."""

from __future__ import annotations

import logging

from sqlalchemy import select

from tests.factories import make_resident, make_staff, token_for
from tests.registry.factories import events, seed_people
from tongban.core.audit.models import AuditEvent
from tongban.registry.models import CorrectionRequest, Person

PROBLEM = "application/problem+json"
PERSONAL = {"id_number", "name", "phone", "birth_date", "road", "number", "address"}


def test_openapi_documents_every_route_with_its_response_model(client):  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").json()
    expected = {
        ("post", "/api/v1/registry/persons/search"): "Page_PersonOut_",
        ("get", "/api/v1/registry/persons/{person_id}"): "PersonOut",
        ("post", "/api/v1/registry/persons/{person_id}/unmask"): "PersonOut",
        ("get", "/api/v1/registry/persons/{person_id}/household"): "HouseholdOut",
        ("get", "/api/v1/me/record"): "PersonOut",
        ("get", "/api/v1/me/household"): "HouseholdOut",
        ("get", "/api/v1/me/wallet"): "Page_CertificateOut_",
        ("post", "/api/v1/me/corrections"): "CorrectionOut",
        ("get", "/api/v1/me/corrections"): "Page_CorrectionOut_",
        ("get", "/api/v1/registry/corrections"): "Page_CorrectionOut_",
        ("post", "/api/v1/registry/corrections/{request_id}/decision"): "CorrectionOut",
    }
    for (method, path), model in expected.items():
        op = spec["paths"][path][method]
        ok = op["responses"].get("200") or op["responses"]["201"]
        assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/" + model), (method, path)
    # No personal identifier is a path or query parameter anywhere in the registry's routes.
    for path, ops in spec["paths"].items():
        if "/registry/" in path or path.startswith("/api/v1/me/"):
            for op in ops.values():
                names = {p["name"] for p in op.get("parameters", [])}
                assert not names & PERSONAL, (path, names)


def test_resident_token_gets_403_problem_from_every_staff_route(db, client):  # type: ignore[no-untyped-def]
    ids = seed_people(db)
    h = token_for(client, "li.ting")
    pid = ids["stranger"]
    calls = [
        ("post", "/api/v1/registry/persons/search", {"id_number": ids["stranger_idn"]}),
        ("get", f"/api/v1/registry/persons/{pid}", None),
        ("post", f"/api/v1/registry/persons/{pid}/unmask", {"purpose": "想看看邻居"}),
        ("get", f"/api/v1/registry/persons/{pid}/household", None),
        ("get", "/api/v1/registry/corrections", None),
        ("post", "/api/v1/registry/corrections/1/decision", {"decision": "approve", "reason": "自己批准自己"}),
    ]
    for method, url, body in calls:
        r = client.request(method, url, json=body, headers=h)
        assert r.status_code == 403, (url, r.text)
        assert r.headers["content-type"] == PROBLEM
    assert events(db, "person.read") == [] and events(db, "person.search") == []


def test_staff_token_has_no_resident_views_and_no_login_means_401(db, client):  # type: ignore[no-untyped-def]
    ids = seed_people(db)
    r = client.get("/api/v1/me/record", headers=token_for(client, "officer.mca"))
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    r = client.get(f"/api/v1/registry/persons/{ids['mother']}")
    assert r.status_code == 401 and r.headers["content-type"] == PROBLEM


def test_unknown_person_is_a_404_problem(db, client):  # type: ignore[no-untyped-def]
    seed_people(db)
    r = client.get("/api/v1/registry/persons/999999", headers=token_for(client, "officer.mca"))
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM


def test_bad_bodies_are_problems_naming_the_field(db, client):  # type: ignore[no-untyped-def]
    ids = seed_people(db)
    h = token_for(client, "officer.mca")
    url = f"/api/v1/registry/persons/{ids['mother']}/unmask"
    for body, field in [({}, "purpose"), ({"purpose": ""}, "purpose"), ({"purpose": "x"}, "purpose"),
                        ({"purpose": "入户核查", "fields": ["favourite_colour"]}, "fields.0")]:
        r = client.post(url, json=body, headers=h)
        assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, r.text
        assert r.json()["field"] == field, (body, r.json())
    r = client.post("/api/v1/registry/persons/search", json={"id_num": ids["mother_idn"]}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "id_num"
    assert ids["mother_idn"] not in r.text  # the problem never echoes the value
    police = token_for(client, "officer.police")
    r = client.post("/api/v1/registry/corrections/1/decision", json={"decision": "maybe", "reason": "原因说明"},
                    headers=police)
    assert r.status_code == 422 and r.json()["field"] == "decision"
    assert events(db, "person.read") == []


def test_fields_narrow_a_masked_read(db, client):  # type: ignore[no-untyped-def]
    ids = seed_people(db)
    r = client.get(f"/api/v1/registry/persons/{ids['mother']}?fields=name&fields=birth_date",
                   headers=token_for(client, "officer.mca"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["name"], body["birth_date"], body["id_number"], body["phone"]) == ("李*", "1994-08-21", None, None)


def test_search_by_id_number_leaves_it_in_no_audit_row_and_no_log(db, client, caplog):  # type: ignore[no-untyped-def]
    ids = seed_people(db)
    h = token_for(client, "officer.mca")
    caplog.set_level(logging.DEBUG)
    r = client.post("/api/v1/registry/persons/search", json={"id_number": ids["mother_idn"]}, headers=h)
    assert r.status_code == 200 and [p["id"] for p in r.json()["items"]] == [ids["mother"]]
    assert r.json()["items"][0]["id_number"] == ids["mother_idn"][:6] + "********" + ids["mother_idn"][-4:]
    idn = ids["mother_idn"]
    wrong_check = idn[:17] + ("0" if idn[17] != "0" else "1")
    r = client.post("/api/v1/registry/persons/search", json={"id_number": wrong_check}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "id_number"
    r = client.post(f"/api/v1/registry/persons/{ids['mother']}/unmask", json={"purpose": "低保复核 入户调查"},
                    headers=h)
    assert r.json()["id_number"] == ids["mother_idn"]
    [search] = events(db, "person.search")
    assert '"criteria":["id_number"]' in search.details
    with db.unit_of_work() as s:
        rows = s.execute(select(AuditEvent.__table__)).all()
    assert rows
    for row in rows:
        text = " ".join(str(v) for v in row)
        assert ids["mother_idn"] not in text and ids["mother_idn"][-10:] not in text and "李婷" not in text
    assert "/api/v1/registry/persons/search" in caplog.text  # the request log is captured …
    assert ids["mother_idn"] not in caplog.text and "李婷" not in caplog.text  # … without the person


def test_resident_sees_own_and_wards_wallet_but_no_strangers(db, client):  # type: ignore[no-untyped-def]
    ids = seed_people(db)
    with db.unit_of_work() as s:
        make_resident(s, "nobody")  # an account with no registry record
    mine = client.get("/api/v1/me/wallet", headers=token_for(client, "li.ting")).json()["items"]
    assert [(c["holder"]["relation"], c["holder"]["person_id"]) for c in mine] == [("ward", ids["baby"])]
    assert "Q330203000099" not in {c["number"] for c in mine}
    theirs = client.get("/api/v1/me/wallet", headers=token_for(client, "wang.wu")).json()["items"]
    assert [(c["holder"]["relation"], c["number"]) for c in theirs] == [("self", "Q330203000099")]
    record = client.get("/api/v1/me/record", headers=token_for(client, "wang.wu")).json()
    assert record["id"] == ids["stranger"] and record["name"] == "王五"
    r = client.get("/api/v1/me/record", headers=token_for(client, "nobody"))
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    assert len(events(db, "self.read")) == 3


def test_rejected_correction_changes_nothing_and_the_resident_sees_why(db, client):  # type: ignore[no-untyped-def]
    ids = seed_people(db)
    me = token_for(client, "li.ting")
    r = client.post("/api/v1/me/corrections", json={"field": "marital_status", "requested_value": "divorced",
                                                    "reason": "已办理离婚登记"}, headers=me)
    assert r.status_code == 201 and r.json()["department_id"] == "dept.haishu.mca", r.text
    req = r.json()["id"]
    # The police are not the owning department of this field.
    police = token_for(client, "officer.police")
    assert client.get("/api/v1/registry/corrections", headers=police).json()["items"] == []
    mca = token_for(client, "officer.mca")
    r = client.post(f"/api/v1/registry/corrections/{req}/decision", json={"decision": "reject", "reason": "x"},
                    headers=mca)
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = client.post(f"/api/v1/registry/corrections/{req}/decision",
                    json={"decision": "reject", "reason": "未查到离婚登记记录"}, headers=mca)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    with db.unit_of_work() as s:
        assert s.get_one(Person, ids["mother"]).marital_status == "married"
        assert s.get_one(CorrectionRequest, req).decided_by is not None
    [mine] = client.get("/api/v1/me/corrections", headers=me).json()["items"]
    assert (mine["status"], mine["decision_reason"]) == ("rejected", "未查到离婚登记记录")
    [decided] = events(db, "correction.decide")
    assert '"approved":false' in decided.details and decided.department_id == "dept.haishu.mca"
    assert len(events(db, "correction.request")) == 1


def test_officer_outside_the_region_cannot_decide_a_correction(db, client):  # type: ignore[no-untyped-def]
    seed_people(db)
    with db.unit_of_work() as s:
        make_staff(s, "officer.jb2", department_id="dept.jiangbei.mca", roles=["officer"])
    r = client.post("/api/v1/me/corrections", json={"field": "marital_status", "requested_value": "divorced",
                                                    "reason": "已办理离婚登记"}, headers=token_for(client, "li.ting"))
    req = r.json()["id"]
    r = client.post(f"/api/v1/registry/corrections/{req}/decision",
                    json={"decision": "approve", "reason": "越权处理测试"}, headers=token_for(client, "officer.jb2"))
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    with db.unit_of_work() as s:
        assert s.get_one(CorrectionRequest, req).status == "open"


def test_a_household_member_living_outside_the_region_is_listed_but_not_shown(db, client):  # type: ignore[no-untyped-def]
    ids = seed_people(db)
    with db.unit_of_work() as s:
        s.get_one(Person, ids["father"]).region_code = "330205001001"  # works and lives in 江北
    r = client.get(f"/api/v1/registry/persons/{ids['mother']}/household", headers=token_for(client, "officer.mca"))
    assert r.status_code == 200, r.text
    father = next(m for m in r.json()["members"] if m["relationship"] == "spouse")
    assert father["id"] == ids["father"] and father["masked"] is True
    assert all(father[k] is None for k in ("id_number", "name", "phone", "birth_date", "address", "region_code"))
    assert len(events(db, "person.read")) == 2  # the mother and the baby; nothing was read of the father
