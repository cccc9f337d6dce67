"""The web face's base: login and logout through the form, the home redirect, the three shells,
languages, the 长辈版 switch and HTML error pages."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.factories import make_resident, make_staff, seed_base, token_for, web_login
from tongban.core.identity.models import Account, AuthToken, Role
from tongban.webkit.csrf import unmask

ID_NUMBER = "330203199001011237"


def _seed(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
        # Readable role names, as a pack would declare them.
        s.get_one(Role, "resident").name_zh, s.get_one(Role, "resident").name_en = "居民", "Resident"
        s.get_one(Role, "officer").name_zh, s.get_one(Role, "officer").name_en = "经办人员", "Case officer"
        s.get_one(Role, "leader").name_zh, s.get_one(Role, "leader").name_en = "领导", "Leader"
        make_resident(s, "li.na", id_number=ID_NUMBER)
        make_staff(s, "wang.officer", department_id="dept.haishu.mca", roles=["officer"])
        make_staff(s, "zhao.leader", department_id="dept.haishu.mca", roles=["leader"])


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def _cookie_header(resp, name: str) -> str:  # type: ignore[no-untyped-def]
    for value in resp.headers.get_list("set-cookie"):
        if value.startswith(name + "="):
            return value
    raise AssertionError(f"no {name} cookie set")


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_resident_logs_in_through_the_form_and_sees_name_and_roles_on_the_portal(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    resp = web_login(client, "li.na")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/portal"
    cookie = _cookie_header(resp, "tongban_session").lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "max-age=28800" in cookie and "secure" not in cookie
    page = client.get("/portal")
    assert page.status_code == 200
    assert "li.na" in page.text
    assert "居民" in page.text
    for label in ("我要办", "我要查", "我要评", "我要说", "您的消息", "您的数字证件"):
        assert label in page.text
    assert "/portal/ratings" in page.text  # 我要评 is the ratings slice's, no longer "coming soon"
    assert ID_NUMBER not in page.text


def test_officer_sees_name_department_region_and_roles_on_the_workbench(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    resp = web_login(client, "wang.officer")
    assert resp.headers["location"] == "/workbench"
    page = client.get("/workbench")
    assert page.status_code == 200
    for text in ("wang.officer", "海曙区民政局", "海曙区", "经办人员"):
        assert text in page.text


def test_resident_opening_the_workbench_is_refused_with_a_403_page(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    web_login(client, "li.na")
    page = client.get("/workbench", headers={"Accept": "text/html"})
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert "您无权进行此操作" in page.text
    assert client.get("/cockpit", headers={"Accept": "text/html"}).status_code == 403


def test_staff_opening_the_portal_is_refused(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    web_login(client, "wang.officer")
    assert client.get("/portal", headers={"Accept": "text/html"}).status_code == 403


def test_leader_lands_on_the_cockpit(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    resp = web_login(client, "zhao.leader")
    assert resp.headers["location"] == "/cockpit"
    page = client.get("/cockpit")
    assert page.status_code == 200
    assert "驾驶舱" in page.text and "领导" in page.text and "海曙区" in page.text


def test_home_redirects_by_who_you_are(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    resp = client.get("/", follow_redirects=False)
    assert (resp.status_code, resp.headers["location"]) == (303, "/login")
    web_login(client, "li.na")
    assert client.get("/", follow_redirects=False).headers["location"] == "/portal"
    assert client.get("/login", follow_redirects=False).headers["location"] == "/portal"


def test_anonymous_visitor_is_sent_to_login_and_back(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    resp = client.get("/workbench", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login?next=/workbench"
    page = client.get("/login?next=/workbench")
    back = client.post("/login", data={"username": "wang.officer", "password": "password-123",
                                        "csrf_token": _csrf(page.text), "next": "/workbench"},
                       follow_redirects=False)
    assert back.headers["location"] == "/workbench"


def test_login_never_redirects_off_site(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    page = client.get("/login")
    resp = client.post("/login", data={"username": "li.na", "password": "password-123",
                                        "csrf_token": _csrf(page.text), "next": "//evil.example/x"},
                       follow_redirects=False)
    assert resp.headers["location"] == "/portal"


def test_wrong_password_shows_the_translated_message_with_401_and_counts_the_failure(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    resp = web_login(client, "li.na", "wrong-password")
    assert resp.status_code == 401
    assert "用户名或密码错误" in resp.text
    assert 'id="password"' in resp.text and 'aria-invalid="true"' in resp.text
    assert 'value="li.na"' in resp.text  # the username is kept, the password is not
    assert "tongban_session" not in resp.headers.get("set-cookie", "")
    with db.unit_of_work() as s:
        account = s.scalar(select(Account).where(Account.username == "li.na"))
        assert account is not None and account.failed_logins == 1
    assert _count(db, AuthToken) == 0


def test_wrong_password_in_english(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    client.cookies.set("tongban_locale", "en")
    resp = web_login(client, "li.na", "wrong-password")
    assert resp.status_code == 401
    assert "Wrong username or password" in resp.text


def test_missing_password_names_the_field(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    page = client.get("/login")
    resp = client.post("/login", data={"username": "li.na", "password": "", "csrf_token": _csrf(page.text)})
    assert resp.status_code == 422
    assert "此项为必填项" in resp.text
    assert 'aria-describedby="password-error"' in resp.text
    assert _count(db, AuthToken) == 0


def test_locked_account_gets_its_own_message(db, client):  # type: ignore[no-untyped-def]
    import datetime as dt

    from sqlalchemy import update

    from tongban.core.identity.models import Account
    from tongban.core.timeutil import utcnow

    _seed(db)
    for _ in range(4):  # failures alone lock nothing (#18 item 11)
        assert web_login(client, "li.na", "wrong-password").status_code == 401
    with db.unit_of_work() as s:  # an operator's lock
        s.execute(update(Account).where(Account.username == "li.na").values(
            locked_until=utcnow() + dt.timedelta(minutes=15)))
    resp = web_login(client, "li.na")
    assert resp.status_code == 423
    assert "账户已暂时锁定" in resp.text
    assert _count(db, AuthToken) == 0


def test_logout_revokes_the_session(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    web_login(client, "li.na")
    session_cookie = client.cookies.get("tongban_session")
    page = client.get("/portal")
    resp = client.post("/logout", data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert (resp.status_code, resp.headers["location"]) == (303, "/login")
    client.cookies.set("tongban_session", session_cookie)  # a copied cookie is dead too
    assert client.get("/portal", follow_redirects=False).status_code == 303
    with db.unit_of_work() as s:
        assert s.scalar(select(AuthToken.revoked)) is True


def test_english_via_accept_language(db, client):  # type: ignore[no-untyped-def]
    page = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en"' in page.text
    assert "Log in" in page.text and "登录" not in page.text
    zh = client.get("/login")
    assert '<html lang="zh-CN"' in zh.text and "登录" in zh.text


def test_locale_cookie_beats_accept_language(db, client):  # type: ignore[no-untyped-def]
    client.cookies.set("tongban_locale", "en")
    page = client.get("/login", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en"' in page.text and "Username" in page.text


def test_account_preference_beats_the_cookie(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    with db.unit_of_work() as s:
        s.scalar(select(Account).where(Account.username == "wang.officer")).locale = "en"  # type: ignore[union-attr]
    web_login(client, "wang.officer")
    client.cookies.set("tongban_locale", "zh_CN")
    page = client.get("/workbench")
    assert '<html lang="en"' in page.text
    assert "Haishu Civil Affairs Bureau" in page.text and "Case officer" in page.text


def test_language_switch_sets_the_cookie_and_the_account_preference(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    web_login(client, "li.na")
    page = client.get("/portal")
    resp = client.post("/preferences/language", data={"locale": "en", "next": "/portal",
                                                       "csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert (resp.status_code, resp.headers["location"]) == (303, "/portal")
    assert "tongban_locale=en" in _cookie_header(resp, "tongban_locale")
    with db.unit_of_work() as s:
        assert s.scalar(select(Account.locale).where(Account.username == "li.na")) == "en"
    portal = client.get("/portal")
    assert "I want to apply" in portal.text and "Resident" in portal.text


def test_visitor_language_switch_uses_the_cookie_only(db, client):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    resp = client.post("/preferences/language", data={"locale": "en", "next": "/login",
                                                       "csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert resp.status_code == 303
    assert '<html lang="en"' in client.get("/login").text


def test_unknown_language_is_refused(db, client):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    resp = client.post("/preferences/language", data={"locale": "fr", "csrf_token": _csrf(page.text)},
                       follow_redirects=False)
    assert resp.status_code == 422
    assert "tongban_locale" not in resp.headers.get("set-cookie", "")


def test_elder_switch_before_signing_in_persists_in_a_cookie(db, client):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    assert 'class="elder"' not in page.text
    resp = client.post("/preferences/elder", data={"mode": "on", "next": "/login",
                                                    "csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert resp.status_code == 303
    again = client.get("/login")
    assert '<html lang="zh-CN" class="elder">' in again.text
    assert 'aria-pressed="true">长辈版' in again.text


def test_layout_is_accessible_and_works_without_js(db, client):  # type: ignore[no-untyped-def]
    page = client.get("/login").text
    assert '<a class="skip-link" href="#main">' in page
    assert '<main id="main"' in page and "<header" in page and "<footer" in page
    assert '<meta name="viewport"' in page
    assert re.search(r'src="/static/vendor/htmx\.min\.[0-9a-f]{10}\.js"', page)
    assert '<form method="post" action="/login"' in page  # a plain form, no script needed
    assert '<label for="username">' in page and '<label for="password">' in page
    assert client.get("/static/css/tongban.css").status_code == 200


def test_htmx_gets_the_session_csrf_token(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    web_login(client, "li.na")
    page = client.get("/portal").text
    with db.unit_of_work() as s:
        token = s.scalar(select(AuthToken.csrf_token))
    header = re.search(r'hx-headers=\'\{"X-CSRF-Token": "([^"]+)"\}\'', page)
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert header and meta and unmask(header.group(1)) == token and unmask(meta.group(1)) == token


def test_secure_cookies_behind_https(db, app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    _seed(db)
    app.state.settings.cookie_secure = True
    with TestClient(app, base_url="https://testserver") as https_client:
        page = https_client.get("/login")
        assert "secure" in _cookie_header(page, "tongban_csrf").lower()
        resp = web_login(https_client, "li.na")
        assert resp.status_code == 303
        assert "secure" in _cookie_header(resp, "tongban_session").lower()


def test_not_found_page_for_browsers_and_problem_json_for_apis(db, client):  # type: ignore[no-untyped-def]
    page = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "未找到" in page.text and "返回首页" in page.text
    english = client.get("/no-such-page", headers={"Accept": "text/html", "Accept-Language": "en"})
    assert "Not found" in english.text and "Go to the home page" in english.text
    api = client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


def test_server_error_page_is_translated(db, settings):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from tongban.web.app import create_app

    app = create_app(settings=settings, db=db)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as c:
        page = c.get("/boom", headers={"Accept": "text/html"})
        assert page.status_code == 500
        assert "系统出现故障" in page.text and "RuntimeError" not in page.text
        api = c.get("/boom")
        assert api.headers["content-type"] == "application/problem+json"


def test_api_still_works_with_bearer_tokens(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    headers = token_for(client, "wang.officer")
    assert client.get("/api/v1/me", headers=headers).json()["username"] == "wang.officer"


def test_account_language_also_applies_to_api_responses(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    with db.unit_of_work() as s:
        s.scalar(select(Account).where(Account.username == "wang.officer")).locale = "en"  # type: ignore[union-attr]
    headers = {**token_for(client, "wang.officer"), "Accept-Language": "zh-CN"}
    assert client.get("/api/v1/me", headers=headers).json()["department"]["name"] == "Haishu Civil Affairs Bureau"
    refused = client.get("/api/v1/admin/clients", headers=headers)  # platform admins only
    assert refused.status_code == 403
    assert refused.json()["title"] == "You are not allowed to do this"
