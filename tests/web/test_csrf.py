"""CSRF: cookie-authenticated state changes need the session's token, the login form needs its
double-submit token, Bearer API calls are exempt, and a refusal writes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.factories import make_resident, seed_base, token_for, web_login
from tongban.core.audit.models import AuditEvent
from tongban.core.identity.models import Account, AuthToken
from tongban.webkit.csrf import tokens_match, unmask


def _seed(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
        make_resident(s, "li.na")


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _session_is_live(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/portal", follow_redirects=False).status_code == 200


@pytest.mark.parametrize("token", [None, "", "wrong-token-wrong-token-wrong-token-0"])
def test_login_without_the_right_token_is_refused_and_writes_nothing(db, client, token):  # type: ignore[no-untyped-def]
    _seed(db)
    client.get("/login")  # sets the double-submit cookie
    events_before = _count(db, AuditEvent)
    data = {"username": "li.na", "password": "wrong-password"}
    if token is not None:
        data["csrf_token"] = token
    resp = client.post("/login", data=data, headers={"Accept": "text/html"}, follow_redirects=False)
    assert resp.status_code == 403
    assert "表单已过期" in resp.text
    assert _count(db, AuditEvent) == events_before
    with db.unit_of_work() as s:
        assert s.scalar(select(Account.failed_logins).where(Account.username == "li.na")) == 0


def test_login_token_without_its_cookie_is_refused(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    token = _csrf(client.get("/login").text)
    client.cookies.delete("tongban_csrf")
    resp = client.post("/login", data={"username": "li.na", "password": "password-123", "csrf_token": token},
                       follow_redirects=False)
    assert resp.status_code == 403
    assert _count(db, AuthToken) == 0


def test_login_form_sets_a_strict_short_lived_csrf_cookie(db, client):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    cookie = next(v for v in page.headers.get_list("set-cookie") if v.startswith("tongban_csrf="))
    assert f"tongban_csrf={unmask(_csrf(page.text))};" in cookie
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "max-age=7200" in lowered
    # The same value is kept across pages, so two open tabs do not invalidate each other.
    assert unmask(_csrf(client.get("/login").text)) == unmask(_csrf(page.text))


def test_pages_embed_the_token_masked_afresh_each_time(db, client):  # type: ignore[no-untyped-def]
    """Pages are sent compressed: the token's bytes differ on every page (no BREACH oracle), and
    each masked copy still opens the form."""
    _seed(db)
    first, second = _csrf(client.get("/login").text), _csrf(client.get("/login").text)
    assert first != second and first.startswith("m.") and unmask(first) == unmask(second)
    assert unmask(first) not in client.get("/login").text
    resp = client.post("/login", data={"username": "li.na", "password": "password-123", "csrf_token": second},
                       follow_redirects=False)
    assert resp.status_code == 303
    tampered = "m." + "A" * (len(first) - 2)
    resp = client.post("/logout", data={"csrf_token": tampered}, follow_redirects=False)
    assert resp.status_code == 403


def test_logout_without_a_token_keeps_the_session(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    web_login(client, "li.na")
    resp = client.post("/logout", headers={"Accept": "text/html"}, follow_redirects=False)
    assert resp.status_code == 403
    assert resp.headers["content-type"].startswith("text/html")
    assert "请返回上一页，刷新后重试" in resp.text
    assert _session_is_live(client)
    with db.unit_of_work() as s:
        assert s.scalar(select(AuthToken.revoked)) is False


def test_logout_with_a_wrong_token_keeps_the_session(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    web_login(client, "li.na")
    resp = client.post("/logout", data={"csrf_token": "x" * 32}, follow_redirects=False)
    assert resp.status_code == 403
    assert _session_is_live(client)


def test_the_login_cookie_token_does_not_stand_in_for_the_session_token(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    form_token = _csrf(client.get("/login").text)
    client.post("/login", data={"username": "li.na", "password": "password-123", "csrf_token": form_token})
    client.cookies.set("tongban_csrf", unmask(form_token))
    resp = client.post("/logout", data={"csrf_token": form_token}, follow_redirects=False)
    assert resp.status_code == 403
    assert _session_is_live(client)


def test_htmx_header_token_is_accepted(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    web_login(client, "li.na")
    token = _csrf(client.get("/portal").text)
    resp = client.post("/logout", headers={"X-CSRF-Token": token, "HX-Request": "true"},
                       follow_redirects=False)
    assert resp.status_code == 303
    assert not _session_is_live(client)


def test_multipart_form_token_is_accepted(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    web_login(client, "li.na")
    token = _csrf(client.get("/portal").text)
    resp = client.post("/preferences/language", data={"locale": "en", "csrf_token": token},
                       files={"ignored": ("a.txt", b"hello", "text/plain")}, follow_redirects=False)
    assert resp.status_code == 303
    with db.unit_of_work() as s:
        assert s.scalar(select(Account.locale).where(Account.username == "li.na")) == "en"


def test_language_switch_without_a_token_changes_nothing(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    web_login(client, "li.na")
    resp = client.post("/preferences/language", data={"locale": "en"}, follow_redirects=False)
    assert resp.status_code == 403
    assert "tongban_locale" not in resp.headers.get("set-cookie", "")
    with db.unit_of_work() as s:
        assert s.scalar(select(Account.locale).where(Account.username == "li.na")) is None


def test_cookie_authenticated_api_call_needs_the_token_and_gets_problem_json(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    web_login(client, "li.na")
    refused = client.post("/api/v1/auth/logout")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["type"] == "https://tongban.dev/problems/csrf-failed"
    assert body["title"] == "表单已过期，或不是从本站提交的"
    token = _csrf(client.get("/portal").text)
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token}).status_code == 204


def test_refusal_is_in_english_for_english_callers(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    client.cookies.set("tongban_locale", "en")
    client.get("/login")
    resp = client.post("/login", data={"username": "li.na", "password": "x"}, headers={"Accept": "text/html"})
    assert resp.status_code == 403
    assert "This form has expired or did not come from this site" in resp.text
    assert '<html lang="en"' in resp.text


def test_bearer_api_calls_are_exempt(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    headers = token_for(client, "li.na")
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_anonymous_api_calls_are_exempt(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    resp = client.post("/api/v1/auth/token", data={"username": "li.na", "password": "password-123"})
    assert resp.status_code == 200


def test_tokens_match_is_strict() -> None:
    assert tokens_match("abc", "abc")
    assert not tokens_match("abc", "abd")
    assert not tokens_match("abc", None)
    assert not tokens_match(None, None)
    assert not tokens_match("", "")
    assert not tokens_match("abc", "中文")
