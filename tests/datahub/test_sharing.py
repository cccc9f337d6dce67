"""Sharing requests beyond the happy path: rejection with a reason, only the owner's steward
decides, bad requests write nothing; ID numbers stay out of responses, logs and URLs; the
data-use index must match the audit chain; bulk exports appear in "who used my data"."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select, update

from tests.datahub.test_exchange import _client_token, _grant, _query, hub  # noqa: F401
from tests.factories import token_for
from tongban.core.audit.models import AuditEvent
from tongban.core.jobs.worker import Worker
from tongban.datahub import exchange
from tongban.datahub.models import Dataset, DataUse, Grant, SharingRequest

ASK = {"dataset_id": "ds.person", "fields": ["id", "region_code"], "purpose": "低保家庭经济状况核对",
       "legal_basis": "《社会救助暂行办法》", "period_days": 30}


def _counts(db) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return (s.scalar(select(func.count()).select_from(SharingRequest)) or 0,
                s.scalar(select(func.count()).select_from(Grant)) or 0,
                s.scalar(select(func.count()).where(AuditEvent.action.like("sharing.%"))) or 0)


def test_steward_rejects_with_a_reason_the_wait_is_recorded_and_no_grant_follows(hub, client):  # type: ignore[no-untyped-def]  # noqa: F811
    rid = client.post("/api/v1/catalog/requests", headers=token_for(client, "steward.mca"), json=ASK).json()["id"]
    police = token_for(client, "steward.police")
    assert [r["id"] for r in client.get("/api/v1/catalog/requests", headers=police).json()["items"]] == [rid]
    r = client.post(f"/api/v1/catalog/requests/{rid}/decision", headers=police,
                    json={"decision": "reject", "reason": "用途与所申请字段不符"})
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["decision_reason"]) == ("rejected", "用途与所申请字段不符")
    assert body["wait_seconds"] is not None and body["decided_at"]
    assert client.get("/api/v1/catalog/requests", headers=police).json()["items"] == []
    h = _client_token(client, "mca-screening", hub["secret"])
    assert _query(client, h, ["id"]).status_code == 403
    again = client.post(f"/api/v1/catalog/requests/{rid}/decision", headers=police,
                        json={"decision": "approve", "reason": "改为同意"})
    assert again.status_code == 409


def test_only_the_owners_steward_can_decide(hub, client, db):  # type: ignore[no-untyped-def]  # noqa: F811
    rid = client.post("/api/v1/catalog/requests", headers=token_for(client, "steward.mca"), json=ASK).json()["id"]
    before = _counts(db)
    for who in ("steward.hrss", "steward.mca"):  # another department; the asking department itself
        r = client.post(f"/api/v1/catalog/requests/{rid}/decision", headers=token_for(client, who),
                        json={"decision": "approve", "reason": "同意"})
        assert r.status_code == 403
    assert _counts(db) == before
    with db.unit_of_work() as s:
        assert s.get_one(SharingRequest, rid).status == "pending"


@pytest.mark.parametrize(("change", "field"), [
    ({"fields": []}, "fields"),
    ({"fields": ["id", "no_such_field"]}, "fields"),
    ({"fields": ["id", "region_code"], "clear_fields": ["region_code"]}, "clear_fields"),  # L1, not L3
    ({"fields": ["id"], "clear_fields": ["name"]}, "clear_fields"),  # not among the fields asked for
    ({"purpose": "查"}, "purpose"),
    ({"legal_basis": " "}, "legal_basis"),
    ({"period_days": 0}, "period_days"),
    ({"period_days": 5000}, "period_days"),
])
def test_a_bad_sharing_request_names_the_field_and_writes_nothing(hub, client, db, change, field):  # type: ignore[no-untyped-def]  # noqa: F811
    r = client.post("/api/v1/catalog/requests", headers=token_for(client, "steward.mca"), json={**ASK, **change})
    assert r.status_code == 422 and r.json()["field"] == field
    assert _counts(db) == (0, 0, 0)


def test_unknown_dataset_is_404_and_writes_nothing(hub, client, db):  # type: ignore[no-untyped-def]  # noqa: F811
    r = client.post("/api/v1/catalog/requests", headers=token_for(client, "steward.mca"),
                    json={**ASK, "dataset_id": "ds.nope"})
    assert r.status_code == 404
    assert _counts(db) == (0, 0, 0)


def test_revoking_needs_the_owners_steward(hub, client, db):  # type: ignore[no-untyped-def]  # noqa: F811
    _grant(client, ["id"])
    gid = client.get("/api/v1/catalog/grants", headers=token_for(client, "steward.mca")).json()["items"][0]["id"]
    r = client.post(f"/api/v1/catalog/grants/{gid}/revoke", headers=token_for(client, "steward.mca"),
                    json={"reason": "自己撤销"})
    assert r.status_code == 403  # the consumer cannot revoke the owner's grant (nor extend it)
    with db.unit_of_work() as s:
        assert s.get_one(Grant, gid).revoked_at is None


def test_no_unmasked_id_number_in_responses_logs_or_urls(hub, client, db, caplog):  # type: ignore[no-untyped-def]  # noqa: F811
    idn = hub["a_idn"]
    caplog.set_level(logging.DEBUG)
    h = _client_token(client, "mca-screening", hub["secret"])
    seen: list[str] = []
    # Refused (no grant) with the ID number in the filter, as a field name and as a filter key.
    for kw in ({"filter": {"id_number": idn}}, {}, {"filter": {idn: 1}}):
        fields = ["id", "id_number"] if kw or not seen else ["id", idn]
        r = _query(client, h, fields, **kw)
        assert r.status_code in (403, 422)
        seen.append(r.text + str(r.url))
    _grant(client, ["id", "id_number", "region_code"])
    r = _query(client, h, ["id", "id_number"], filter={"id_number": idn})
    assert r.status_code == 200 and len(r.json()["rows"]) == 1
    assert r.json()["rows"][0]["id_number"] == idn[:6] + "********" + idn[-4:]
    seen.append(r.text + str(r.url))
    for bad in ({"fields": [idn]}, {"filter": {idn: "x"}}):
        r = _query(client, h, bad.get("fields", ["id"]), **({"filter": bad["filter"]} if "filter" in bad else {}))
        assert r.status_code == 422
        seen.append(r.text + str(r.url))
    Worker(client.app.state.db).run_once()
    for text in seen:
        assert idn not in text
    for rec in caplog.records:
        assert idn not in rec.getMessage() and idn not in str(rec.__dict__)
    with db.unit_of_work() as s:
        for e in s.scalars(select(AuditEvent)):
            assert idn not in f"{e.actor} {e.action} {e.subject} {e.details} {e.purpose}"
        assert all(idn not in u.subject for u in s.scalars(select(DataUse)))


def test_data_use_job_refuses_subjects_the_audit_event_does_not_name(hub, client, db):  # type: ignore[no-untyped-def]  # noqa: F811
    _grant(client, ["id"])
    h = _client_token(client, "mca-screening", hub["secret"])
    _query(client, h, ["id"], filter={"id": hub["a"]})
    with db.unit_of_work() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "exchange.query")).one()
        with pytest.raises(ValueError, match="fingerprint"):
            exchange.write_data_uses(s, {"event_id": event.id, "department_id": "dept.haishu.mca",
                                         "dataset_id": "ds.person", "purpose": "x",
                                         "subjects": [hub["a"], hub["b"]]})
        exchange.write_data_uses(s, {"event_id": event.id, "department_id": "dept.haishu.mca",
                                     "dataset_id": "ds.person", "purpose": "x", "subjects": [hub["a"]]})
        assert s.scalar(select(func.count()).select_from(DataUse)) == 1


def test_a_bulk_export_shows_in_who_used_my_data(hub, client):  # type: ignore[no-untyped-def]  # noqa: F811
    _grant(client, ["id", "region_code"])
    h = _client_token(client, "mca-screening", hub["secret"])
    r = client.post("/api/v1/exchange/ds.person/export", headers=h,
                    json={"purpose": "低保对象主动发现筛查", "fields": ["id", "region_code"]})
    assert r.status_code == 201
    uses = client.get("/api/v1/me/data-uses", headers=token_for(client, "chen")).json()["items"]
    assert [(u["department_id"], u["purpose"], u["channel"], u["what"]) for u in uses] == [
        ("dept.haishu.mca", "低保对象主动发现筛查", "export", "ds.person")]


def test_a_dataset_reclassified_not_shared_stops_reads_on_old_grants(hub, client, db):  # type: ignore[no-untyped-def]  # noqa: F811
    _grant(client, ["id", "region_code"])
    h = _client_token(client, "mca-screening", hub["secret"])
    body = {"purpose": "低保对象主动发现筛查", "fields": ["id", "region_code"]}
    assert client.post("/api/v1/exchange/ds.person/export", headers=h, json=body).status_code == 201
    with db.unit_of_work() as s:  # the owner reclassifies it 不予共享; the grant is still on the books
        s.execute(update(Dataset).where(Dataset.id == "ds.person").values(sharing_type="none", legal_basis="测试"))
    assert client.post("/api/v1/exchange/ds.person/export", headers=h, json=body).status_code == 403
    assert _query(client, h, ["id"]).status_code == 403
