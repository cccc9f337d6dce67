"""A bearer token resolved a moment ago is served from the per-process token cache, but a
logout, a deactivation or a role change made in this process takes effect on the next request."""

from __future__ import annotations

from sqlalchemy import delete, select

from tests.factories import make_staff, seed_base, token_for
from tongban.core.identity import token_cache
from tongban.core.identity.models import Account, AccountRole


def _seed(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
        make_staff(s, "wang.officer", department_id="dept.haishu.mca", roles=["officer"])


def test_a_cached_token_is_served_without_a_lookup(db, client, monkeypatch):  # type: ignore[no-untyped-def]
    _seed(db)
    headers = token_for(client, "wang.officer")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    from tongban.core.identity import service as identity

    def no_lookup(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("the token was looked up again")

    monkeypatch.setattr(identity, "token_lookup", no_lookup)
    assert client.get("/api/v1/me", headers=headers).json()["username"] == "wang.officer"


def test_logout_takes_effect_at_once(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    headers = token_for(client, "wang.officer")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_deactivation_and_role_changes_take_effect_at_once(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    headers = token_for(client, "wang.officer")
    assert [r["id"] for r in client.get("/api/v1/me", headers=headers).json()["roles"]] == ["officer"]
    with db.unit_of_work() as s:
        account = s.scalars(select(Account).where(Account.username == "wang.officer")).one()
        s.execute(delete(AccountRole).where(AccountRole.account_id == account.id))
    assert client.get("/api/v1/me", headers=headers).json()["roles"] == []
    with db.unit_of_work() as s:
        s.scalars(select(Account).where(Account.username == "wang.officer")).one().active = False
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_entries_expire(db, client, monkeypatch):  # type: ignore[no-untyped-def]
    _seed(db)
    headers = token_for(client, "wang.officer")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert token_cache._entries
    monkeypatch.setattr(token_cache.time, "monotonic", lambda: 10**12)
    assert token_cache.get(db.url, next(iter(token_cache._entries))[1]) is None
