"""The one read path: region, permission, masking, purpose, audit — and the resident's own view."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.factories import make_staff, refusal_count, token_for
from tests.registry.factories import events as _events
from tests.registry.factories import make_grant, make_person
from tests.registry.factories import seed_people as _seed
from tongban.core import masking
from tongban.core.audit.models import AuditEvent
from tongban.registry.models import CorrectionRequest, Person


def test_staff_read_is_masked_by_default_and_audited(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    r = client.get(f"/api/v1/registry/persons/{ids['mother']}", headers=token_for(client, "officer.mca"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["masked"] is True
    assert body["name"] == "李*"
    assert body["id_number"] == ids["mother_idn"][:6] + "********" + ids["mother_idn"][-4:]
    assert body["phone"] == "139****5678"
    assert body["address"] == "解放南路 ***"
    [event] = _events(db, "person.read")
    assert event.subject == masking.subject("person", ids["mother"]) != f"person:{ids['mother']}"
    assert '"unmasked":false' in event.details


def test_unmasked_read_needs_a_purpose_and_records_it(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    h = token_for(client, "officer.mca")
    r = client.post(f"/api/v1/registry/persons/{ids['mother']}/unmask", json={"purpose": "ab"}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "purpose"
    assert _events(db, "person.read") == []
    r = client.post(f"/api/v1/registry/persons/{ids['mother']}/unmask",
                    json={"purpose": "低保入户核查 2026-11"}, headers=h)
    assert r.status_code == 200
    assert r.json()["id_number"] == ids["mother_idn"] and r.json()["name"] == "李婷"
    [event] = _events(db, "person.read")
    assert event.purpose == "低保入户核查 2026-11" and '"unmasked":true' in event.details


def test_officer_outside_the_region_subtree_gets_403(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    r = client.get(f"/api/v1/registry/persons/{ids['mother']}", headers=token_for(client, "officer.jb"))
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert _events(db, "person.read") == []
    assert len(_events(db, "access.denied")) == 1


def test_resident_token_is_refused_staff_reads(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    h = token_for(client, "li.ting")
    assert client.get(f"/api/v1/registry/persons/{ids['stranger']}", headers=h).status_code == 403
    assert client.post("/api/v1/registry/persons/search", json={"name": "王五", "birth_date": "1970-01-01"},
                       headers=h).status_code == 403


def test_search_by_id_number_in_the_body_leaves_no_id_number_in_the_audit(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    h = token_for(client, "officer.mca")
    r = client.post("/api/v1/registry/persons/search", json={"id_number": ids["mother_idn"]}, headers=h)
    assert r.status_code == 200
    [hit] = r.json()["items"]
    assert hit["id"] == ids["mother"] and hit["masked"]
    r = client.post("/api/v1/registry/persons/search", json={"name": "王五", "birth_date": "1970-01-01"}, headers=h)
    assert [p["id"] for p in r.json()["items"]] == [ids["stranger"]]
    r = client.post("/api/v1/registry/persons/search", json={"road": "中山西路"}, headers=h)
    assert [p["id"] for p in r.json()["items"]] == [ids["stranger"]]
    with db.unit_of_work() as s:
        for e in s.scalars(select(AuditEvent)):
            text = " ".join(str(v) for v in (e.subject, e.details, e.purpose))
            assert ids["mother_idn"] not in text and "王五" not in text


def test_search_outside_region_finds_nothing(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    with db.unit_of_work() as s:
        make_grant(s, "dept.jiangbei.mca")
    r = client.post("/api/v1/registry/persons/search", json={"id_number": ids["mother_idn"]},
                    headers=token_for(client, "officer.jb"))
    assert r.status_code == 200 and r.json()["items"] == []


def test_bad_search_input_names_the_field(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    h = {**token_for(client, "officer.mca"), "Accept-Language": "en"}
    r = client.post("/api/v1/registry/persons/search", json={"id_number": "330203199408210420"}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "id_number"
    assert "330203199408210420" not in r.text
    r = client.post("/api/v1/registry/persons/search", json={"name": "李婷"}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "birth_date"
    r = client.post("/api/v1/registry/persons/search", json={}, headers=h)
    assert r.status_code == 422


def test_household_view_masks_members(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    r = client.get(f"/api/v1/registry/persons/{ids['mother']}/household", headers=token_for(client, "officer.mca"))
    assert r.status_code == 200
    members = r.json()["members"]
    assert {m["relationship"] for m in members} == {"head", "spouse", "child"}
    assert all(m["masked"] for m in members)
    assert len(_events(db, "person.read")) == 3


def test_resident_sees_own_record_household_and_wards_wallet(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    h = token_for(client, "li.ting")
    me = client.get("/api/v1/me/record", headers=h).json()
    assert me["id_number"] == ids["mother_idn"] and me["masked"] is False
    hh = client.get("/api/v1/me/household", headers=h).json()
    spouse = next(m for m in hh["members"] if m["relationship"] == "spouse")
    assert spouse["name"] == "张明" and spouse["phone"] == "138****0101"
    wallet = client.get("/api/v1/me/wallet", headers=h).json()["items"]
    assert [(c["holder"]["relation"], c["number"]) for c in wallet] == [("ward", "Q330203000001")]
    other = client.get("/api/v1/me/wallet", headers=token_for(client, "wang.wu")).json()["items"]
    assert [c["number"] for c in other] == ["Q330203000099"]


def test_correction_request_and_decision_apply_the_change(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    resident = token_for(client, "li.ting")
    r = client.post("/api/v1/me/corrections", json={"field": "phone", "requested_value": "13700001111",
                                                    "reason": "换了新号码"}, headers=resident)
    assert r.status_code == 201, r.text
    assert r.json()["department_id"] == "dept.haishu.police"
    req_id = r.json()["id"]
    # Another department may not decide it.
    mca = token_for(client, "officer.mca")
    assert client.post(f"/api/v1/registry/corrections/{req_id}/decision",
                       json={"decision": "approve", "reason": "核实无误"}, headers=mca).status_code == 403
    police = token_for(client, "officer.police")
    assert [c["id"] for c in client.get("/api/v1/registry/corrections", headers=police).json()["items"]] == [req_id]
    r = client.post(f"/api/v1/registry/corrections/{req_id}/decision",
                    json={"decision": "approve", "reason": "核实无误"}, headers=police)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    with db.unit_of_work() as s:
        assert s.get_one(Person, ids["mother"]).phone == "13700001111"
    again = client.post(f"/api/v1/registry/corrections/{req_id}/decision",
                        json={"decision": "reject", "reason": "重复处理"}, headers=police)
    assert again.status_code == 409


def test_bad_correction_input_writes_nothing(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    h = token_for(client, "li.ting")
    for body, field in [({"field": "id_number", "requested_value": "x", "reason": "原因说明"}, "field"),
                        ({"field": "phone", "requested_value": "12ab", "reason": "原因说明"}, "requested_value"),
                        ({"field": "phone", "requested_value": "13700001111", "reason": "x"}, "reason")]:
        r = client.post("/api/v1/me/corrections", json=body, headers=h)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    with db.unit_of_work() as s:
        assert s.scalars(select(CorrectionRequest)).all() == []


def test_department_without_a_grant_is_refused_and_audited(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    with db.unit_of_work() as s:
        make_staff(s, "officer.health", department_id="dept.haishu.health", roles=["officer"])
    h = token_for(client, "officer.health")
    r = client.get(f"/api/v1/registry/persons/{ids['mother']}", headers=h)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert client.post("/api/v1/registry/persons/search", json={"id_number": ids["mother_idn"]},
                       headers=h).status_code == 403
    assert _events(db, "person.read") == []
    assert refusal_count(db) == 2  # one refused action twice in a minute: coalesced, both counted


def test_grant_without_clear_text_refuses_unmasking(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    with db.unit_of_work() as s:
        make_staff(s, "officer.hrss", department_id="dept.haishu.hrss", roles=["officer"])
        make_grant(s, "dept.haishu.hrss", fields=["id", "name", "employment_status"])
    h = token_for(client, "officer.hrss")
    body = client.get(f"/api/v1/registry/persons/{ids['mother']}", headers=h).json()
    assert body["name"] == "李*" and body["employment_status"] == "employed"
    assert body["id_number"] is None and body["phone"] is None  # not covered by the grant
    r = client.post(f"/api/v1/registry/persons/{ids['mother']}/unmask", json={"purpose": "就业援助核查"}, headers=h)
    assert r.status_code == 403


def test_owner_reads_in_full_with_purpose_and_l4_only_with_basis(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    with db.unit_of_work() as s:
        s.get_one(Person, ids["mother"]).disability_type = "physical"
    police = token_for(client, "officer.police")
    full = client.post(f"/api/v1/registry/persons/{ids['mother']}/unmask", json={"purpose": "户籍核查"},
                       headers=police).json()
    assert full["id_number"] == ids["mother_idn"] and full["disability_type"] == "physical"
    mca = client.get(f"/api/v1/registry/persons/{ids['mother']}", headers=token_for(client, "officer.mca")).json()
    assert mca["disability_type"] is None  # L4: the grantee sees it only with the person's consent


def test_consent_gives_a_department_the_persons_record(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    with db.unit_of_work() as s:
        make_staff(s, "officer.disabled", department_id="dept.haishu.disabled", roles=["officer"])
        s.get_one(Person, ids["mother"]).disability_type = "physical"
    h = token_for(client, "officer.disabled")
    assert client.get(f"/api/v1/registry/persons/{ids['mother']}", headers=h).status_code == 403
    r = client.post("/api/v1/me/consents", headers=token_for(client, "li.ting"), json={
        "department_id": "dept.haishu.disabled", "dataset_id": "ds.person", "purpose": "申请残疾人两项补贴"})
    assert r.status_code == 201
    body = client.post(f"/api/v1/registry/persons/{ids['mother']}/unmask", json={"purpose": "两项补贴审核"},
                       headers=h).json()
    assert body["disability_type"] == "physical" and body["id_number"] == ids["mother_idn"]
    # Only her: another person's record stays closed to this department.
    assert client.get(f"/api/v1/registry/persons/{ids['stranger']}", headers=h).status_code == 403


# --- the service function itself ------------------------------------------------------------------


@pytest.fixture
def keyed(settings):  # type: ignore[no-untyped-def]
    """The pseudonym key, as the app and the CLI set it."""
    masking.configure(settings.secret_key)


def _principal(db, username: str):  # type: ignore[no-untyped-def]
    from tongban.core.identity.models import Account
    from tongban.core.identity.service import principal_for_account

    with db.unit_of_work() as s:
        account = s.scalars(select(Account).where(Account.username == username)).one()
        return principal_for_account(s, account)


def test_read_person_returns_only_the_fields_asked_for_and_audits_them(db, keyed):  # type: ignore[no-untyped-def]
    from tongban.core.errors import Invalid
    from tongban.datahub import persons as service

    ids = _seed(db)
    officer = _principal(db, "officer.mca")
    with db.unit_of_work() as s:
        out = service.read_person(s, principal=officer, person_id=ids["mother"], fields=["phone", "name"])
    assert out["name"] == "李*" and out["phone"] == "139****5678" and out["id"] == ids["mother"]
    assert out["id_number"] is None and out["birth_date"] is None and out["address"] is None
    [event] = _events(db, "person.read")
    assert '"fields":["name","phone"]' in event.details
    with db.unit_of_work() as s, pytest.raises(Invalid) as exc:
        service.read_person(s, principal=officer, person_id=ids["mother"], fields=["favourite_colour"])
    assert exc.value.field == "fields"
    with db.unit_of_work() as s, pytest.raises(Invalid) as exc:
        service.read_person(s, principal=officer, person_id=ids["mother"], purpose="   ok   ")
    assert exc.value.field == "purpose"
    assert len(_events(db, "person.read")) == 1


def test_hukou_bound_reads_let_the_hukou_region_read_a_person_living_elsewhere(db, keyed):  # type: ignore[no-untyped-def]
    from tongban.core.access import Denied
    from tongban.datahub import persons as service

    ids = _seed(db)
    with db.unit_of_work() as s:
        moved = make_person(s, "周六", birth=dt.date(1988, 4, 4), region_code="330205001001", road=None)
        moved.hukou_region_code = "330203"
        moved_id = moved.id
    officer = _principal(db, "officer.police")  # 海曙 公安: the person's hukou region, not the residence
    with db.unit_of_work() as s, pytest.raises(Denied):
        service.read_person(s, principal=officer, person_id=moved_id)
    with db.unit_of_work() as s:
        out = service.read_person(s, principal=officer, person_id=moved_id, hukou_bound=True)
    assert out["name"] == "周*"
    [event] = _events(db, "person.read")
    assert '"hukou_bound":true' in event.details
    # The flag widens nothing for someone whose hukou lies outside the caller's region too.
    with db.unit_of_work() as s:
        local_id = make_person(s, "吴七", birth=dt.date(1990, 9, 9), region_code="330205001001", road=None).id
    with db.unit_of_work() as s, pytest.raises(Denied):
        service.read_person(s, principal=officer, person_id=local_id, hukou_bound=True)
    assert len(_events(db, "person.read")) == 1 and ids["mother"]
