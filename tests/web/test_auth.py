"""Logins, tokens, lockout and /me."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import make_resident, make_staff, seed_base, token_for
from tongban.core.audit.models import AuditEvent
from tongban.core.identity import service as identity
from tongban.core.identity.models import Account


def _seed(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
        make_resident(s, "li.na")
        make_staff(s, "wang.officer", department_id="dept.haishu.mca", roles=["officer"])
        _c, secret = identity.create_client(s, client_id="mca-sync", name="MCA sync",
                                            department_id="dept.haishu.mca", scopes=["exchange.read"])
    return secret


def test_password_grant_and_me(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    headers = token_for(client, "wang.officer")
    body = client.get("/api/v1/me", headers=headers).json()
    assert body["username"] == "wang.officer"
    assert [r["id"] for r in body["roles"]] == ["officer"]
    assert body["department"]["id"] == "dept.haishu.mca"


def test_missing_grant_type_is_password_grant(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    resp = client.post("/api/v1/auth/token", data={"username": "li.na", "password": "password-123"})
    assert resp.status_code == 200
    assert resp.json()["token_type"] == "bearer"
    assert resp.json()["expires_in"] > 0


def test_client_credentials(db, client):  # type: ignore[no-untyped-def]
    secret = _seed(db)
    ok = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials",
                                                  "client_id": "mca-sync", "client_secret": secret})
    assert ok.status_code == 200
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {ok.json()['access_token']}"}).json()
    assert me["kind"] == "client" and me["department"]["id"] == "dept.haishu.mca"
    bad = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials",
                                                   "client_id": "mca-sync", "client_secret": secret + "x"})
    assert bad.status_code == 401
    assert bad.headers["content-type"] == "application/problem+json"


def test_wrong_passwords_from_a_stranger_do_not_lock_the_owner_out(db, app):  # type: ignore[no-untyped-def]
    """#18 item 11: five (or ten) wrong passwords from one source lock nothing; the owner signs in
    from another source, and failures are audited."""
    from fastapi.testclient import TestClient

    _seed(db)
    with TestClient(app, client=("203.0.113.7", 5000)) as stranger:
        for _ in range(5):
            assert stranger.post("/api/v1/auth/token", data={"username": "li.na", "password": "wrong"}).status_code == 401
    with TestClient(app, client=("198.51.100.2", 5000)) as owner:
        r = owner.post("/api/v1/auth/token", data={"username": "li.na", "password": "password-123"})
        assert r.status_code == 200, r.text
    with db.unit_of_work() as s:
        acc = s.scalar(select(Account).where(Account.username == "li.na"))
        assert acc is not None and acc.locked_until is None
        failed = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "auth.login", AuditEvent.outcome != "ok"))
        assert failed == 5


def test_a_source_guessing_gets_429_with_retry_after(db, app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    _seed(db)
    with TestClient(app, client=("203.0.113.7", 5000)) as stranger:
        codes = [stranger.post("/api/v1/auth/token", data={"username": "li.na", "password": "wrong"}).status_code
                 for _ in range(6)]
        assert codes == [401] * 5 + [429]
        r = stranger.post("/api/v1/auth/token", data={"username": "li.na", "password": "password-123"})
        assert r.status_code == 429  # even the right password waits: it may be a lucky guess
        assert r.json()["type"].endswith("/rate-limited")
        assert 0 < int(r.headers["Retry-After"]) <= 60
        # Many accounts from one source: the per-source limit answers too.
        codes = [stranger.post("/api/v1/auth/token", data={"username": f"u{i}", "password": "x"}).status_code
                 for i in range(30)]
        assert codes[-1] == 429


def test_the_login_page_is_throttled_the_same_way(db, app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    _seed(db)
    with TestClient(app, client=("203.0.113.7", 5000)) as stranger:
        page = stranger.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0] if 'name="csrf_token"' in page.text else ""
        codes = [stranger.post("/login", data={"username": "li.na", "password": "wrong", "csrf_token": token},
                               headers={"Accept": "text/html"}).status_code for _ in range(6)]
        assert codes[-1] == 429, codes


def test_errors_are_problem_json_in_the_callers_language(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    r = client.post("/api/v1/auth/token", data={"grant_type": "password", "username": "li.na"},
                    headers={"Accept-Language": "en"})
    assert r.status_code == 422
    assert r.json()["field"] == "password"
    assert r.json()["detail"] == "This field is required"
    r = client.get("/api/v1/me", headers={"Accept-Language": "en"})
    assert r.status_code == 401 and r.json()["type"].endswith("/not-authenticated")


def test_bad_token_is_anonymous(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer tb_nonsense"})
    assert r.status_code == 401
