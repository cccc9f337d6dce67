"""Who may browse the audit log, and what they see."""

from __future__ import annotations

from tests.factories import make_staff, seed_base, token_for
from tongban.core.audit.log import record


def _seed(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
        make_staff(s, "auditor", department_id="dept.haishu.mca", roles=["auditor"])
        make_staff(s, "admin.mca", department_id="dept.haishu.mca", roles=["dept_admin"])
        make_staff(s, "admin.health", department_id="dept.haishu.health", roles=["dept_admin"])
        make_staff(s, "officer.mca", department_id="dept.haishu.mca", roles=["officer"])
    with db.unit_of_work() as s:
        for i in range(3):
            record(s, actor="account:99", action="task.decide", department_id="dept.haishu.mca",
                   details={"i": i})
        record(s, actor="account:98", action="task.decide", department_id="dept.haishu.health")


def test_auditor_sees_all_events_with_pagination(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    h = token_for(client, "auditor")
    first = client.get("/api/v1/audit/events", params={"action": "task.decide", "limit": 3}, headers=h).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    second = client.get("/api/v1/audit/events", params={"action": "task.decide", "limit": 3,
                                                        "cursor": first["next_cursor"]}, headers=h).json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    assert {e["department_id"] for e in first["items"] + second["items"]} == {"dept.haishu.mca",
                                                                               "dept.haishu.health"}
    assert all(e["seq"] and e["hash"] for e in first["items"])


def test_department_admin_sees_only_own_department(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    h = token_for(client, "admin.health")
    items = client.get("/api/v1/audit/events", params={"action": "task.decide"}, headers=h).json()["items"]
    assert len(items) == 1 and items[0]["department_id"] == "dept.haishu.health"
    # Asking for another department's events explicitly returns nothing of theirs.
    other = client.get("/api/v1/audit/events", params={"department_id": "dept.haishu.mca"}, headers=h)
    assert other.status_code == 200 and other.json()["items"] == []


def test_officer_cannot_read_audit_events(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    r = client.get("/api/v1/audit/events", headers=token_for(client, "officer.mca"))
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"


def test_reading_the_log_is_audited(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    h = token_for(client, "auditor")
    client.get("/api/v1/audit/events", headers=h)
    items = client.get("/api/v1/audit/events", params={"action": "audit.read"}, headers=h).json()["items"]
    assert len(items) >= 1


def test_bad_cursor_and_limit_are_named(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    h = token_for(client, "auditor")
    r = client.get("/api/v1/audit/events", params={"cursor": "!!!"}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "cursor"
    r = client.get("/api/v1/audit/events", params={"limit": 1000}, headers=h)
    assert r.status_code == 422 and r.json()["field"] == "limit"
