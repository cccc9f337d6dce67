"""Drafts (saved, checked only in the fields given, routed only when submitted), 代办 (a resident
authorised by another, a guardian for a ward) and 一窗受理 (a counter officer filing for a
resident with their recorded consent): who may, what is refused, and what the resident and the
audit chain see."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from tests.factories import refusals
from tests.services.conftest import CHEN_CHILD_ID, LI_ID, ZHANG_ID, birth_data, person_id
from tongban.core.audit.models import AuditEvent
from tongban.services.models import Application, Authorisation, Task


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def post(client, headers, key: str | None = "k-1", **body: Any):  # type: ignore[no-untyped-def]
    h = {**headers, **({"Idempotency-Key": key} if key else {})}
    return client.post("/api/v1/applications", headers=h, json={"onething_id": "onething.birth", **body})


def events(db, action: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return [{"actor": e.actor, **json.loads(e.details)}
                for e in s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


# --- drafts --------------------------------------------------------------------------------------


def test_a_draft_keeps_partial_data_routes_nothing_and_is_seen_only_by_its_owner(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    resp = post(client, zhang, key=None, draft=True, data={"child_name": "张小明"})
    assert resp.status_code == 201, resp.text
    draft = resp.json()
    assert draft["status"] == "draft" and draft["tasks"] == [] and draft["data"] == {"child_name": "张小明"}
    assert count(demo, Task) == 0
    assert client.get(f"/api/v1/applications/{draft['id']}", headers=zhang).status_code == 200
    for other in ("resident.li", "resident.chen", "officer.health"):
        assert client.get(f"/api/v1/applications/{draft['id']}", headers=login(other)).status_code == 404
    assert [a["id"] for a in client.get("/api/v1/me/applications", headers=zhang).json()["items"]] == [draft["id"]]
    assert client.get("/api/v1/workbench/tasks", headers=login("officer.health")).json()["items"] == []


def test_a_draft_checks_the_fields_it_has_and_refuses_bad_ones_whole(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    resp = post(client, login("resident.zhang"), key=None, draft=True,
                data={"child_name": "张小明", "mother_id_number": "330203199408210422"})
    assert resp.status_code == 422 and resp.json()["field"] == "data.mother_id_number"
    assert count(demo, Application) == 0


def test_a_draft_is_updated_then_submitted_once_and_then_routed(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    draft = post(client, zhang, key=None, draft=True, data={"child_name": "张小明"}).json()
    url = f"/api/v1/applications/{draft['id']}"
    assert client.put(url, headers=login("resident.li"), json={"data": {}}).status_code == 404  # not hers
    incomplete = birth_data(father_name=None)
    assert client.put(url, headers=zhang, json={"data": incomplete}).status_code == 200
    refused = client.post(f"{url}/submit", headers={**zhang, "Idempotency-Key": "s-1"})
    assert refused.status_code == 422 and refused.json()["field"] == "data.father_name"
    assert client.get(url, headers=zhang).json()["status"] == "draft" and count(demo, Task) == 0
    assert client.post(f"{url}/submit", headers=zhang).json()["field"] == "Idempotency-Key"

    assert client.put(url, headers=zhang, json={"data": birth_data()}).status_code == 200
    first = client.post(f"{url}/submit", headers={**zhang, "Idempotency-Key": "s-2"})
    assert first.status_code == 201 and first.json()["status"] == "submitted"
    assert {t["item_id"] for t in first.json()["tasks"]} >= {"item.birth-certificate", "item.vaccination"}
    again = client.post(f"{url}/submit", headers={**zhang, "Idempotency-Key": "s-2"})
    assert again.status_code == 200 and again.json()["id"] == draft["id"]
    assert count(demo, Task) == 5
    assert client.put(url, headers=zhang, json={"data": {}}).json()["status"] == 409
    other_key = client.post(f"{url}/submit", headers={**zhang, "Idempotency-Key": "s-3"})
    assert other_key.status_code == 409 and count(demo, Task) == 5
    assert len(events(demo, "application.submit")) == 1


# --- 代办: authorised family members and guardians -------------------------------------------------


def test_filing_for_someone_without_their_authorisation_is_refused(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    resp = post(client, login("resident.li"), data=birth_data(), on_behalf_of=person_id(demo, ZHANG_ID))
    assert resp.status_code == 403 and resp.json()["field"] == "on_behalf_of"
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert count(demo, Application) == 0


def test_an_authorised_proxy_files_for_the_grantor_who_sees_it(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang, li = login("resident.zhang"), login("resident.li")
    given = client.post("/api/v1/me/authorisations", headers=zhang,
                        json={"proxy_id_number": LI_ID, "scope": "onething.birth", "days": 30})
    assert given.status_code == 201, given.text
    assert given.json()["name"] != "李婷" and given.json()["active"]  # masked
    assert [a["direction"] for a in client.get("/api/v1/me/authorisations", headers=li).json()["items"]] == ["received"]

    resp = post(client, li, data=birth_data(), on_behalf_of=person_id(demo, ZHANG_ID))
    assert resp.status_code == 201, resp.text
    app = resp.json()
    assert app["applicant_person_id"] == person_id(demo, ZHANG_ID) and app["filing"] == "proxy"
    mine = client.get("/api/v1/me/applications", headers=zhang).json()["items"]
    assert [a["id"] for a in mine] == [app["id"]]
    seen = client.get(f"/api/v1/applications/{app['id']}", headers=zhang).json()
    assert seen["filed_by"] == app["filed_by"] and seen["filed_by"] != f"account:{seen['id']}"
    assert seen["timeline"][0]["details"]["filing"] == "proxy"
    [audit] = events(demo, "application.submit")
    assert audit["filing"] == "proxy" and audit["filed_by"] == audit["actor"] == app["filed_by"]
    assert client.get(f"/api/v1/applications/{app['id']}", headers=login("resident.chen")).status_code == 404


def test_a_revoked_or_narrower_authorisation_does_not_let_the_proxy_file(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang, li = login("resident.zhang"), login("resident.li")
    narrow = client.post("/api/v1/me/authorisations", headers=zhang,
                         json={"proxy_id_number": LI_ID, "scope": "item.vaccination"}).json()
    assert post(client, li, data=birth_data(), on_behalf_of=person_id(demo, ZHANG_ID)).status_code == 403
    full = client.post("/api/v1/me/authorisations", headers=zhang, json={"proxy_id_number": LI_ID}).json()
    for a in (narrow, full):
        assert client.delete(f"/api/v1/me/authorisations/{a['id']}", headers=zhang).status_code == 200
    assert client.delete(f"/api/v1/me/authorisations/{full['id']}", headers=zhang).status_code == 409
    assert post(client, li, key="k-2", data=birth_data(), on_behalf_of=person_id(demo, ZHANG_ID)).status_code == 403
    assert count(demo, Application) == 0
    assert [e["authorisation"] for e in events(demo, "authorisation.revoke")] == [narrow["id"], full["id"]]


def test_authorisations_refuse_bad_input(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    for body, field in [({"proxy_id_number": "330203199408210422"}, "proxy_id_number"),
                        ({"proxy_id_number": ZHANG_ID}, "proxy_id_number"),
                        ({"proxy_id_number": LI_ID, "scope": "onething.nothing"}, "scope"),
                        ({"proxy_id_number": LI_ID, "days": 0}, "days")]:
        resp = client.post("/api/v1/me/authorisations", headers=zhang, json=body)
        assert resp.status_code == 422 and resp.json()["field"] == field, body
    assert client.delete("/api/v1/me/authorisations/1", headers=login("resident.li")).status_code == 404
    assert count(demo, Authorisation) == 0


def test_a_guardian_files_for_a_ward_without_an_account(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    ward = person_id(demo, CHEN_CHILD_ID)
    resp = post(client, login("resident.chen"), data=birth_data(), on_behalf_of=ward)
    assert resp.status_code == 201, resp.text
    assert resp.json()["filing"] == "guardian" and resp.json()["applicant_person_id"] == ward
    assert post(client, login("resident.zhang"), data=birth_data(), on_behalf_of=ward).status_code == 403


# --- 一窗受理: filing at the counter ----------------------------------------------------------------


def counter(client, headers, id_number: str = ZHANG_ID, consent: Any = None, key: str = "c-1"):  # type: ignore[no-untyped-def]
    consent = {"method": "signature", "note": "签字确认"} if consent is None else consent
    return post(client, headers, key=key, data=birth_data(), id_number=id_number, consent=consent)


def test_a_counter_officer_files_for_a_resident_who_sees_it_and_the_chain_records_the_filer(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    officer = login("officer.nanmen")
    resp = counter(client, officer)
    assert resp.status_code == 201, resp.text
    app = resp.json()
    assert app["filing"] == "counter" and app["applicant_person_id"] == person_id(demo, ZHANG_ID)
    assert app["filing_consent"]["method"] == "signature"
    zhang = login("resident.zhang")
    assert [a["id"] for a in client.get("/api/v1/me/applications", headers=zhang).json()["items"]] == [app["id"]]
    timeline = client.get(f"/api/v1/applications/{app['id']}", headers=zhang).json()["timeline"]
    assert timeline[0]["details"]["filed_by"] == app["filed_by"] and timeline[0]["details"]["consent"]["method"] == "signature"
    [audit] = events(demo, "application.submit")
    assert audit["filing"] == "counter" and audit["filed_by"] == app["filed_by"] and audit["consent"]["method"] == "signature"
    assert [m["kind"] for m in client.get("/api/v1/me/messages", headers=zhang).json()["items"]] == ["application.submitted"]
    again = counter(client, officer)
    assert again.status_code == 200 and again.json()["id"] == app["id"]


def test_counter_filing_refuses_bad_input_and_residents(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    officer = login("officer.nanmen")
    cases = [(counter(client, officer, consent={"method": "nod"}), 422, "consent.method"),
             (counter(client, officer, id_number="330203199203150315"), 422, "id_number"),
             (counter(client, officer, id_number="330203198305090151"), 403, None),  # 王建国 lives outside Nanmen
             (counter(client, login("resident.li")), 403, None)]
    for resp, status, field in cases:
        assert resp.status_code == status, resp.text
        if field:
            assert resp.json()["field"] == field
    assert count(demo, Application) == 0


def test_a_counter_officer_saves_a_draft_attaches_a_scan_and_submits_it(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    officer, zhang = login("officer.nanmen"), login("resident.zhang")
    resp = post(client, officer, key=None, draft=True, data={"child_name": "张小明"}, id_number=ZHANG_ID,
                consent={"method": "verbal", "note": "本人到场口头同意"})
    assert resp.status_code == 201 and resp.json()["status"] == "draft" and resp.json()["filing"] == "counter"
    app_id = resp.json()["id"]
    assert client.get(f"/api/v1/applications/{app_id}", headers=zhang).status_code == 404  # the officer's draft
    scan = client.post(f"/api/v1/applications/{app_id}/materials", headers=officer, data={"material_id": "mat.delivery-record"},
                       files={"file": ("scan.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")})
    assert scan.status_code == 201, scan.text
    assert client.put(f"/api/v1/applications/{app_id}", headers=officer, json={"data": birth_data()}).status_code == 200
    done = client.post(f"/api/v1/applications/{app_id}/submit", headers={**officer, "Idempotency-Key": "c-9"})
    assert done.status_code == 201 and len(done.json()["tasks"]) == 5
    assert client.get(f"/api/v1/applications/{app_id}", headers=zhang).json()["filing_consent"]["method"] == "verbal"


def test_another_residents_application_is_the_same_audited_404_as_one_that_does_not_exist(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    """Issue #18 item 6: `can_read` refusing used to answer 403, telling a caller the id exists."""
    resp = post(client, login("resident.zhang"), data=birth_data())
    assert resp.status_code == 201, resp.text
    app_id = resp.json()["id"]
    chen = login("resident.chen")
    theirs = client.get(f"/api/v1/applications/{app_id}", headers=chen)
    missing = client.get(f"/api/v1/applications/{app_id + 100000}", headers=chen)
    assert theirs.status_code == missing.status_code == 404
    strip = lambda body: {k: v for k, v in body.items() if k != "instance"}  # noqa: E731
    assert strip(theirs.json()) == strip(missing.json())
    officer = client.get(f"/api/v1/applications/{app_id}", headers=login("officer.tax"))  # no task of theirs
    assert officer.status_code == 404 and strip(officer.json()) == strip(missing.json())
    # All three audited: chen's two in one minute are coalesced (one event, then one counting the rest).
    refused = [e for e in refusals(demo) if e["needed"] == "application.read"]
    assert sum(e["count"] for e in refused) == 3 and len({e["actor"] for e in refused}) == 2
    assert refused[0]["path"] == f"/api/v1/applications/{app_id}" and refused[0]["status"] == 404
