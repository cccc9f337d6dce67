"""Item 5 of #18: who is asking is settled before the body is validated, and a stranger is told
to log in (401) without an audit row."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import make_resident, seed_base, token_for
from tongban.core.audit.models import AuditEvent


def _audit_rows(db) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_anonymous_writes_get_401_before_their_body_is_validated(db, client):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    for url in ("/api/v1/applications", "/api/v1/admin/staff", "/api/v1/me/consents"):
        r = client.post(url, json={"nonsense": True})
        assert r.status_code == 401, (url, r.text)
        assert r.json()["type"].endswith("/not-authenticated")


def test_anonymous_read_of_an_application_is_401_and_not_audited(db, client):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    before = _audit_rows(db)
    for _ in range(3):
        assert client.get("/api/v1/applications/1").status_code == 401
    assert _audit_rows(db) == before


def test_a_resident_gets_403_not_422_on_an_admin_post(db, client):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
        make_resident(s, "li.na")
    h = token_for(client, "li.na")
    for url in ("/api/v1/admin/staff", "/api/v1/admin/departments", "/api/v1/admin/clients"):
        r = client.post(url, headers=h, json={})
        assert r.status_code == 403, (url, r.text)
    r = client.patch("/api/v1/admin/staff/1", headers=h, json={"roles": 5})
    assert r.status_code == 403
