"""Prefill reads go through the data hub: the one-click consent is a data-hub `Consent` scoped to
the one-thing, which the resident sees and withdraws like any other; each read is an exchange
read on that consent, in the audit chain and in "who used my data"."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.factories import refusals
from tests.services.conftest import birth_data
from tongban.core.audit.models import AuditEvent
from tongban.core.jobs.worker import Worker
from tongban.datahub.models import Consent


def test_the_prefill_consent_is_a_data_hub_consent_the_resident_sees_and_withdraws(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    li = login("resident.li")
    consent_id = client.post("/api/v1/onethings/onething.birth/consent", headers=li).json()["consent_id"]
    mine = client.get("/api/v1/me/consents", headers=li).json()["items"]
    assert [(c["id"], c["scope"], c["active"]) for c in mine] == [(consent_id, "onething.birth", True)]
    assert client.post(f"/api/v1/me/consents/{consent_id}/withdraw", headers=li).status_code == 200
    resp = client.get(f"/api/v1/onethings/onething.birth/form?consent_id={consent_id}", headers=li)
    assert resp.status_code == 404 and resp.json()["field"] == "consent_id"
    page = client.get("/portal/data", headers=li, follow_redirects=False)
    # the consent by what it was for, never its raw scope
    assert page.status_code == 200 and "出生一件事" in page.text and "onething.birth" not in page.text


def test_another_residents_consent_is_the_audited_404_of_one_not_in_force(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    li = login("resident.li")
    consent_id = client.post("/api/v1/onethings/onething.birth/consent", headers=li).json()["consent_id"]
    zhang = login("resident.zhang")
    theirs = client.get(f"/api/v1/onethings/onething.birth/form?consent_id={consent_id}", headers=zhang)
    missing = client.get("/api/v1/onethings/onething.birth/form?consent_id=999999", headers=zhang)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["title"] == missing.json()["title"] and theirs.json()["field"] == "consent_id"
    assert sum(e["count"] for e in refusals(demo) if e["needed"] == "consent.use") == 2


def test_prefill_reads_are_exchange_reads_on_the_consent_and_reach_who_used_my_data(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    li = login("resident.li")
    consent_id = client.post("/api/v1/onethings/onething.birth/consent", headers=li).json()["consent_id"]
    client.get(f"/api/v1/onethings/onething.birth/form?consent_id={consent_id}", headers=li)
    with demo.unit_of_work() as s:
        reads = [json.loads(e.details) for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "prefill.read"))]
    assert {r["basis"] for r in reads} == {f"consent:{consent_id}"}
    assert {r["dataset"] for r in reads} == {"ds.person", "ds.household"}
    Worker(client.app.state.db).run_once()
    uses = client.get("/api/v1/me/data-uses", headers=li).json()["items"]
    assert {(u["purpose"], u["what"], u["channel"]) for u in uses} == {
        ("prefill", "ds.person", "exchange"), ("prefill", "ds.household", "exchange")}
    # Her husband's record was read on her consent too: it shows in his "who used my data".
    zhang_uses = client.get("/api/v1/me/data-uses", headers=login("resident.zhang")).json()["items"]
    assert [(u["purpose"], u["what"]) for u in zhang_uses] == [("prefill", "ds.person")]


def test_a_consent_is_bound_to_the_one_application_it_served(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    li = login("resident.li")
    consent_id = client.post("/api/v1/onethings/onething.birth/consent", headers=li).json()["consent_id"]
    body = {"onething_id": "onething.birth", "data": birth_data(), "consent_id": consent_id}
    first = client.post("/api/v1/applications", headers={**li, "Idempotency-Key": "a"}, json=body)
    assert first.status_code == 201
    with demo.unit_of_work() as s:
        assert s.get_one(Consent, consent_id).application_ref == str(first.json()["id"])
    second = client.post("/api/v1/applications", headers={**li, "Idempotency-Key": "b"}, json=body)
    assert second.status_code == 409 and second.json()["field"] == "consent_id"
