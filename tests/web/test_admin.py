"""The operator API and the access rules behind it."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import make_resident, make_staff, seed_base, token_for
from tongban.core.audit.models import AuditEvent
from tongban.core.identity.models import Account


def _seed(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
        make_resident(s, "li.na")
        make_staff(s, "officer.mca", department_id="dept.haishu.mca", roles=["officer"])
        make_staff(s, "officer.health", department_id="dept.haishu.health", roles=["officer"])
        make_staff(s, "admin.mca", department_id="dept.haishu.mca", roles=["dept_admin"])
        make_staff(s, "admin.jb", department_id="dept.jiangbei.mca", roles=["dept_admin"])
        make_staff(s, "admin.nanmen", department_id="dept.nanmen.office", roles=["dept_admin"])
        make_staff(s, "root", department_id="dept.haishu.mca", roles=["platform_admin"])


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_resident_token_gets_403_problem_json_from_staff_endpoints(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    h = token_for(client, "li.na")
    for method, url in [("get", "/api/v1/admin/departments/dept.haishu.mca/staff"),
                        ("get", "/api/v1/admin/clients")]:
        r = getattr(client, method)(url, headers=h)
        assert r.status_code == 403, url
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"].endswith("/forbidden")
    r = client.post("/api/v1/admin/staff", headers=h, json={
        "username": "x.y", "display_name": "x", "password": "password-123",
        "department_id": "dept.haishu.mca", "roles": ["officer"]})
    assert r.status_code == 403


def test_denials_are_audited(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    h = token_for(client, "li.na")
    client.get("/api/v1/admin/clients", headers=h)
    with db.unit_of_work() as s:
        n = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "access.denied", AuditEvent.outcome == "denied"))
    assert n == 1


def test_officer_lists_own_department_staff_only(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    h = token_for(client, "officer.mca")
    own = client.get("/api/v1/admin/departments/dept.haishu.mca/staff", headers=h)
    assert own.status_code == 200
    assert {s["username"] for s in own.json()["items"]} == {"officer.mca", "admin.mca", "root"}
    other = client.get("/api/v1/admin/departments/dept.haishu.health/staff", headers=h)
    assert other.status_code == 403


def test_department_admin_creates_staff_in_own_department(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    h = token_for(client, "admin.mca")
    r = client.post("/api/v1/admin/staff", headers=h, json={
        "username": "new.officer", "display_name": "新科员", "password": "password-123",
        "department_id": "dept.haishu.mca", "roles": ["officer"]})
    assert r.status_code == 201, r.text
    assert r.json()["region_code"] == "330203"
    token_for(client, "new.officer")


def test_department_admin_cannot_add_staff_to_another_department(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    before = _count(db, Account)
    h = token_for(client, "admin.mca")
    r = client.post("/api/v1/admin/staff", headers=h, json={
        "username": "spy", "display_name": "x", "password": "password-123",
        "department_id": "dept.haishu.health", "roles": ["officer"]})
    assert r.status_code == 403
    assert _count(db, Account) == before


def test_staff_outside_region_subtree_is_refused(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    before = _count(db, Account)
    # A street office admin (330203001) may not place staff at district level (330203).
    h = token_for(client, "admin.nanmen")
    r = client.post("/api/v1/admin/staff", headers=h, json={
        "username": "climber", "display_name": "x", "password": "password-123",
        "department_id": "dept.nanmen.office", "region_code": "330203", "roles": ["officer"]})
    assert r.status_code == 403
    assert r.json()["type"].endswith("/forbidden")
    assert _count(db, Account) == before


def test_department_admin_cannot_grant_platform_roles(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    h = token_for(client, "admin.mca")
    r = client.post("/api/v1/admin/staff", headers=h, json={
        "username": "mole", "display_name": "x", "password": "password-123",
        "department_id": "dept.haishu.mca", "roles": ["platform_admin"]})
    assert r.status_code == 403


def test_bad_staff_input_names_the_field_and_writes_nothing(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    before = _count(db, Account)
    h = token_for(client, "admin.mca")
    r = client.post("/api/v1/admin/staff", headers={**h, "Accept-Language": "en"}, json={
        "username": "ok.name", "display_name": "x", "password": "short",
        "department_id": "dept.haishu.mca", "roles": ["officer"]})
    assert r.status_code == 422
    assert r.json()["field"] == "password"
    r = client.post("/api/v1/admin/staff", headers=h, json={
        "username": "officer.mca", "display_name": "x", "password": "password-123",
        "department_id": "dept.haishu.mca", "roles": ["officer"]})
    assert r.status_code == 409 and r.json()["field"] == "username"
    r = client.post("/api/v1/admin/staff", headers=h, json={
        "username": "ghost.role", "display_name": "x", "password": "password-123",
        "department_id": "dept.haishu.mca", "roles": ["no-such-role"]})
    assert r.status_code == 422 and r.json()["field"] == "roles"
    assert _count(db, Account) == before


def test_platform_admin_manages_clients_and_the_secret_works(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    h = token_for(client, "root")
    r = client.post("/api/v1/admin/clients", headers=h, json={
        "client_id": "health-sync", "name": "Health sync", "department_id": "dept.haishu.health",
        "scopes": ["exchange.read"]})
    assert r.status_code == 201, r.text
    secret = r.json()["client_secret"]
    ok = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials",
                                                  "client_id": "health-sync", "client_secret": secret})
    assert ok.status_code == 200
    client.post("/api/v1/admin/clients/health-sync/deactivate", headers=h)
    no = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials",
                                                  "client_id": "health-sync", "client_secret": secret})
    assert no.status_code == 401
    listed = client.get("/api/v1/admin/clients", headers=h).json()["items"]
    assert listed[0]["client_id"] == "health-sync" and "client_secret" not in listed[0]


def test_unlock_after_lockout(db, client):  # type: ignore[no-untyped-def]
    import datetime as dt

    from sqlalchemy import update

    from tongban.core.timeutil import utcnow

    _seed(db)
    with db.unit_of_work() as s:  # failures lock nothing any more: an operator's lock
        s.execute(update(Account).where(Account.username == "officer.mca").values(
            locked_until=utcnow() + dt.timedelta(minutes=15)))
    assert client.post("/api/v1/auth/token", data={"username": "officer.mca",
                                                    "password": "password-123"}).status_code == 423
    with db.unit_of_work() as s:
        acc_id = s.scalar(select(Account.id).where(Account.username == "officer.mca"))
    r = client.post(f"/api/v1/admin/accounts/{acc_id}/unlock", headers=token_for(client, "admin.mca"))
    assert r.status_code == 200 and r.json()["locked"] is False
    token_for(client, "officer.mca")


def test_departments_and_roles_are_for_staff_admins_only(db, client):  # type: ignore[no-untyped-def]
    """Issue #18 item 9: residents could list every department and every role's permissions."""
    _seed(db)
    resident, officer, root = (token_for(client, u) for u in ("li.na", "officer.mca", "root"))
    for url in ("/api/v1/admin/departments", "/api/v1/admin/roles"):
        assert client.get(url).status_code == 401, url
        refused = client.get(url, headers=resident)
        assert refused.status_code == 403, url
        assert refused.headers["content-type"] == "application/problem+json"
        assert "permissions" not in refused.text
        for allowed in (officer, root):
            ok = client.get(url, headers=allowed)
            assert ok.status_code == 200 and ok.json()["items"], url
