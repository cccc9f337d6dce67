"""Reads of an application by others than the applicant's side are audited: a department's
officer through the API, one `application.read` event per read. A platform administrator is not a
party to residents' applications: the portal's application pages refuse them as they refuse
another resident, and a read through the API is let through, recorded as an override."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.factories import web_login
from tests.services.conftest import DEMO_PASSWORD, birth_data
from tongban.core.audit.models import AuditEvent


def _reads(db, application_id: int) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "application.read",
                                                       AuditEvent.subject == f"application:{application_id}")))


def _submit(client, login) -> int:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/applications", headers={**login("resident.zhang"), "Idempotency-Key": "admin-read"},
                       json={"onething_id": "onething.birth", "data": birth_data()})
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def test_an_admin_api_read_of_someone_elses_application_is_audited(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app_id = _submit(client, login)
    own = client.get(f"/api/v1/applications/{app_id}", headers=login("resident.zhang"))
    assert own.status_code == 200, own.text
    assert _reads(demo, app_id) == []  # the applicant's own read is not an override

    read = client.get(f"/api/v1/applications/{app_id}", headers=login("admin.platform"))
    assert read.status_code == 200, read.text
    [event] = _reads(demo, app_id)
    assert event.outcome == "ok" and event.actor.startswith("account:")
    assert json.loads(event.details) == {"application": app_id, "override": "platform.admin"}
    assert event.actor_department == "dept.haishu.bigdata"


def test_the_portal_application_pages_refuse_an_admin_who_is_not_a_party(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app_id = _submit(client, login)
    for who, allowed in (("resident.zhang", True), ("admin.platform", False)):
        client.cookies.clear()
        assert web_login(client, who, DEMO_PASSWORD).status_code == 303
        for url in (f"/portal/applications/{app_id}", f"/portal/applications/{app_id}/withdraw"):
            r = client.get(url, headers={"Accept": "text/html"}, follow_redirects=False)
            assert r.status_code == (200 if allowed else 404), (who, url, r.status_code)
            if not allowed:
                assert "张小明" not in r.text
    assert _reads(demo, app_id) == []  # a refusal reads nothing (it is audited as access.denied)


def test_a_staff_read_through_the_api_is_audited(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    """The departments in an application are parties and may read it; each read is recorded."""
    app_id = _submit(client, login)
    read = client.get(f"/api/v1/applications/{app_id}", headers=login("officer.health"))
    assert read.status_code == 200, read.text
    [event] = _reads(demo, app_id)
    assert json.loads(event.details) == {"application": app_id}
    assert event.actor_department == "dept.haishu.health" and event.purpose == "application review"
