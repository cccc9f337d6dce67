"""The data hub: catalog, sharing by approval, the exchange's field-by-field checks, masking,
consent, revocation, and the resident's view of who used their data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.factories import make_resident, make_staff, token_for
from tests.registry.factories import make_person
from tongban.core.audit.models import AuditEvent
from tongban.core.identity import service as identity
from tongban.core.jobs.worker import Worker
from tongban.core.packs.loader import load_pack
from tongban.datahub import exchange
from tongban.datahub.models import Consent, Grant, SharingRequest
from tongban.registry.models import IncomeRecord

PACK = Path(__file__).resolve().parents[2] / "packs" / "demo"


@pytest.fixture()
def hub(db):  # type: ignore[no-untyped-def]
    """The demo pack's catalog, two persons, a 民政 client and steward, a 公安 steward, a resident."""
    with db.unit_of_work() as s:
        load_pack(s, PACK)
        a = make_person(s, "陈秀英", birth=dt.date(1985, 11, 2), region_code="330203001001", phone="13800000103")
        b = make_person(s, "周强", birth=dt.date(1979, 4, 4), sex="M", region_code="330203001002", road="柳汀街")
        a.disability_type, a.disability_grade = "physical", 2
        b.disability_type = "visual"
        s.add_all([IncomeRecord(person_id=a.id, month="2026-10", source="wage", amount_fen=84300),
                   IncomeRecord(person_id=b.id, month="2026-10", source="wage", amount_fen=612000)])
        _c, secret = identity.create_client(s, client_id="mca-screening", name="民政核对",
                                            department_id="dept.haishu.mca", scopes=["exchange.read"])
        _c2, secret2 = identity.create_client(s, client_id="tax-sync", name="税务",
                                              department_id="dept.haishu.tax", scopes=["exchange.read"])
        make_staff(s, "steward.mca", department_id="dept.haishu.mca", roles=["data_steward"])
        make_staff(s, "steward.police", department_id="dept.haishu.police", roles=["data_steward"])
        make_staff(s, "steward.hrss", department_id="dept.haishu.hrss", roles=["data_steward"])
        make_resident(s, "chen", id_number=a.id_number)
        ids = {"a": a.id, "b": b.id, "a_idn": a.id_number, "secret": secret, "secret2": secret2}
    exchange.rate_limit._buckets.clear()
    return ids


def _client_token(client, cid: str, secret: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": cid,
                                                  "client_secret": secret})
    assert r.status_code == 200
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _grant(client, fields: list[str], clear: list[str] | None = None) -> int:  # type: ignore[no-untyped-def]
    mca = token_for(client, "steward.mca")
    r = client.post("/api/v1/catalog/requests", headers=mca, json={
        "dataset_id": "ds.person", "fields": fields, "clear_fields": clear or [],
        "purpose": "低保家庭经济状况核对", "legal_basis": "《社会救助暂行办法》", "period_days": 30})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pending"
    police = token_for(client, "steward.police")
    r = client.post(f"/api/v1/catalog/requests/{r.json()['id']}/decision", headers=police,
                    json={"decision": "approve", "reason": "符合共享条件"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert r.json()["wait_seconds"] is not None
    return int(r.json()["id"])


def _query(client, headers, fields, **kw):  # type: ignore[no-untyped-def]
    body = {"purpose": "低保家庭经济状况核对", "fields": fields, **kw}
    return client.post("/api/v1/exchange/ds.person/query", headers=headers, json=body)


def test_catalog_lists_the_registry_datasets_with_grades(hub, client):  # type: ignore[no-untyped-def]
    h = token_for(client, "steward.mca")
    items = client.get("/api/v1/catalog/datasets", headers=h).json()["items"]
    assert {d["id"] for d in items} >= {"ds.person", "ds.household", "ds.income", "ds.enrolment", "ds.entity"}
    person = next(d for d in items if d["id"] == "ds.person")
    grades = {f["name"]: f["grade"] for f in person["fields"]}
    assert grades["id_number"] == "L3" and grades["disability_type"] == "L4" and grades["region_code"] == "L1"
    found = client.get("/api/v1/catalog/datasets", params={"q": "收入"}, headers=h).json()["items"]
    assert [d["id"] for d in found] == ["ds.income"]


def test_client_without_grant_gets_403_and_it_is_audited(hub, client):  # type: ignore[no-untyped-def]
    h = _client_token(client, "mca-screening", hub["secret"])
    r = _query(client, h, ["id", "name"])
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    with client.app.state.db.unit_of_work() as s:
        denied = s.scalars(select(AuditEvent).where(AuditEvent.action == "access.denied")).all()
    assert len(denied) == 1 and "exchange:ds.person" in denied[0].details


def test_grant_for_two_fields_returns_exactly_those(hub, client):  # type: ignore[no-untyped-def]
    _grant(client, ["id", "region_code"])
    h = _client_token(client, "mca-screening", hub["secret"])
    r = _query(client, h, ["id", "region_code"])
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [set(row) for row in rows] == [{"id", "region_code"}] * 2
    assert r.json()["audit_seq"] >= 1
    r = _query(client, h, ["id", "region_code", "name"])
    assert r.status_code == 403


def test_l3_masked_unless_granted_clear_and_l4_withheld_without_consent(hub, client):  # type: ignore[no-untyped-def]
    _grant(client, ["id", "id_number", "name", "phone", "disability_type"], clear=["name"])
    h = _client_token(client, "mca-screening", hub["secret"])
    row = _query(client, h, ["id", "id_number", "name", "phone", "disability_type"],
                 filter={"id": hub["a"]}).json()["rows"][0]
    assert row["id_number"] == hub["a_idn"][:6] + "********" + hub["a_idn"][-4:]
    assert row["name"] == "陈秀英"  # granted in clear
    assert row["phone"] == "138****0103"
    assert row["disability_type"] is None  # L4: no consent
    # The resident consents: now the L4 field comes for her row only.
    resident = token_for(client, "chen")
    r = client.post("/api/v1/me/consents", headers=resident, json={
        "department_id": "dept.haishu.mca", "dataset_id": "ds.person", "purpose": "申请残疾人两项补贴", "days": 30})
    assert r.status_code == 201, r.text
    rows = {r["id"]: r for r in _query(client, h, ["id", "disability_type"]).json()["rows"]}
    assert rows[hub["a"]]["disability_type"] == "physical" and rows[hub["b"]]["disability_type"] is None


def test_revoked_grant_stops_the_next_call(hub, client):  # type: ignore[no-untyped-def]
    _grant(client, ["id", "region_code"])
    h = _client_token(client, "mca-screening", hub["secret"])
    assert _query(client, h, ["id"]).status_code == 200
    police = token_for(client, "steward.police")
    grant_id = client.get("/api/v1/catalog/grants", headers=police).json()["items"][0]["id"]
    r = client.post(f"/api/v1/catalog/grants/{grant_id}/revoke", headers=police, json={"reason": "用途已结束"})
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert _query(client, h, ["id"]).status_code == 403


def test_expired_grant_stops_working(hub, client, db):  # type: ignore[no-untyped-def]
    _grant(client, ["id"])
    with db.unit_of_work() as s:
        s.execute(update(Grant).values(valid_to=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    h = _client_token(client, "mca-screening", hub["secret"])
    assert _query(client, h, ["id"]).status_code == 403


def test_consent_based_read_stops_when_withdrawn_or_expired(hub, client, db):  # type: ignore[no-untyped-def]
    h = _client_token(client, "mca-screening", hub["secret"])
    assert _query(client, h, ["id", "name"], filter={"id": hub["a"]}).status_code == 403
    resident = token_for(client, "chen")
    cid = client.post("/api/v1/me/consents", headers=resident, json={
        "department_id": "dept.haishu.mca", "dataset_id": "ds.person", "purpose": "申请低保", "days": 7}).json()["id"]
    ok = _query(client, h, ["id", "name"], filter={"id": hub["a"]})
    assert ok.status_code == 200 and ok.json()["rows"] == [{"id": hub["a"], "name": "陈秀英"}]
    # Consent covers only her: asking for everyone, or for someone else, is refused.
    assert _query(client, h, ["id"]).status_code == 403
    assert _query(client, h, ["id"], filter={"id": hub["b"]}).status_code == 403
    assert client.post(f"/api/v1/me/consents/{cid}/withdraw", headers=resident).status_code == 200
    assert _query(client, h, ["id", "name"], filter={"id": hub["a"]}).status_code == 403
    cid2 = client.post("/api/v1/me/consents", headers=resident, json={
        "department_id": "dept.haishu.mca", "dataset_id": "ds.person", "purpose": "申请低保", "days": 7}).json()["id"]
    with db.unit_of_work() as s:
        s.execute(update(Consent).where(Consent.id == cid2).values(
            valid_to=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert _query(client, h, ["id", "name"], filter={"id": hub["a"]}).status_code == 403


def test_not_shared_dataset_cannot_be_requested(hub, client, db):  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/catalog/requests", headers=token_for(client, "steward.mca"), json={
        "dataset_id": "ds.case-records", "fields": ["case_number"], "purpose": "核查案件",
        "legal_basis": "无", "period_days": 10})
    assert r.status_code == 409 and r.json()["field"] == "dataset_id"
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(SharingRequest)) == 0


def test_unconditional_dataset_is_granted_at_once(hub, client):  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/catalog/requests", headers=token_for(client, "steward.mca"), json={
        "dataset_id": "ds.entity", "fields": ["uscc", "name"], "purpose": "核对法人信息",
        "legal_basis": "《浙江省公共数据条例》", "period_days": 365})
    assert r.status_code == 201 and r.json()["status"] == "approved"


def test_bad_query_input_names_the_field(hub, client):  # type: ignore[no-untyped-def]
    _grant(client, ["id", "region_code"])
    h = {**_client_token(client, "mca-screening", hub["secret"]), "Accept-Language": "en"}
    assert _query(client, h, ["id"], filter={"name": "x"}).json()["field"] == "filter.name"
    assert _query(client, h, ["nope"]).json()["field"] == "fields"
    assert _query(client, h, ["id"], limit=50000).json()["field"] == "limit"
    r = client.post("/api/v1/exchange/ds.person/query", headers=h, json={"purpose": "x", "fields": ["id"]})
    assert r.json()["field"] == "purpose"


def test_filter_values_are_bounded_and_a_bad_one_is_named(hub, client):  # type: ignore[no-untyped-def]
    """Issue #18 item 7: a filter is at most 20 conditions of at most 200 characters or a 64-bit
    integer each; beyond that a 422 naming the field, never a query built from it."""
    _grant(client, ["id", "region_code"])
    h = {**_client_token(client, "mca-screening", hub["secret"]), "Accept-Language": "en"}
    many = _query(client, h, ["id"], filter={f"f{i}": 1 for i in range(21)})
    assert (many.status_code, many.json()["field"]) == (422, "filter")
    long = _query(client, h, ["id"], filter={"id": "1" * 201})
    assert (long.status_code, long.json()["field"]) == (422, "filter.id")
    huge = _query(client, h, ["id"], filter={"id": 2**64})
    assert (huge.status_code, huge.json()["field"]) == (422, "filter.id")
    assert _query(client, h, ["id"], filter={"id": hub["a"]}).status_code == 200


def test_rate_limit_per_client(hub, client, monkeypatch):  # type: ignore[no-untyped-def]
    _grant(client, ["id"])
    monkeypatch.setattr(exchange, "rate_limit", exchange.RateLimit(capacity=2, per_second=0.001))
    h = _client_token(client, "mca-screening", hub["secret"])
    assert [_query(client, h, ["id"]).status_code for _ in range(3)] == [200, 200, 429]


def test_no_unmasked_id_number_leaks_into_responses_or_audit(hub, client, db):  # type: ignore[no-untyped-def]
    _grant(client, ["id", "id_number"])
    h = _client_token(client, "mca-screening", hub["secret"])
    r = _query(client, h, ["id", "id_number"])
    assert hub["a_idn"] not in r.text
    with db.unit_of_work() as s:
        for e in s.scalars(select(AuditEvent)):
            assert hub["a_idn"] not in f"{e.subject} {e.details} {e.purpose}"


def test_resident_sees_who_used_her_data(hub, client):  # type: ignore[no-untyped-def]
    _grant(client, ["id", "region_code"])
    h = _client_token(client, "mca-screening", hub["secret"])
    _query(client, h, ["id", "region_code"], filter={"id": hub["a"]})
    Worker(client.app.state.db).run_once()  # the data-use index is written by a job
    uses = client.get("/api/v1/me/data-uses", headers=token_for(client, "chen")).json()["items"]
    assert [(u["department_id"], u["purpose"], u["channel"]) for u in uses] == [
        ("dept.haishu.mca", "低保家庭经济状况核对", "exchange")]


def test_catalog_search_treats_wildcards_literally(hub, client):  # type: ignore[no-untyped-def]
    h = token_for(client, "steward.mca")
    assert client.get("/api/v1/catalog/datasets", params={"q": "%"}, headers=h).json()["items"] == []
    assert client.get("/api/v1/catalog/datasets", params={"q": "_"}, headers=h).json()["items"] == []
    assert [d["id"] for d in client.get("/api/v1/catalog/datasets", params={"q": "INCOME"},
                                       headers=h).json()["items"]] == ["ds.income"]
