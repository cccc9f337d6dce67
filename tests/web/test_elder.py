"""长辈版 (elder mode) and the help line, issue #23: kept by the account across sessions and
devices, a cookie before signing in, the simpler home, the pack's help line on every page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.factories import make_resident, make_staff, seed_base, web_login
from tongban.core.identity.models import Account, Region
from tongban.webkit import display


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


@pytest.fixture()
def seeded(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
        make_resident(s, "li.na", id_number="330203199001011237")  # in 紫金巷社区 under 南门街道
        make_resident(s, "wang.jb", region_code="330205")  # 江北区
        make_staff(s, "wang.officer", department_id="dept.haishu.mca", roles=["officer"])
        s.get_one(Region, "330203").help_line = "0574-12345"  # 海曙区
        s.get_one(Region, "330205").help_line = "0574-87654321"  # 江北区
    display.forget()
    yield db
    display.forget()


def _elder(db, username: str) -> bool:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return bool(s.scalar(select(Account.elder_mode).where(Account.username == username)))


def _switch(client, mode: str, next_path: str = "/portal"):  # type: ignore[no-untyped-def]
    page = client.get(next_path)
    return client.post("/preferences/elder", data={"mode": mode, "next": next_path, "csrf_token": _csrf(page.text)},
                       follow_redirects=False)


def test_elder_mode_is_kept_by_the_account_across_sessions(seeded, client, app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    web_login(client, "li.na")
    assert "elder-task" not in client.get("/portal").text
    resp = _switch(client, "on")
    assert resp.status_code == 303 and resp.headers["location"] == "/portal"
    assert _elder(seeded, "li.na")
    # another device: no cookie of the first, the account still says 长辈版
    with TestClient(app) as other:
        web_login(other, "li.na")
        other.cookies.delete(display.ELDER_COOKIE)
        home = other.get("/portal").text
        assert '<html lang="zh-CN" class="elder">' in home
        assert 'data-task="apply"' in home and 'data-task="progress"' in home and 'data-task="wallet"' in home
        # every page, not only the home
        assert 'class="elder"' in other.get("/portal/apply").text
    assert _switch(client, "off").status_code == 303
    assert not _elder(seeded, "li.na")
    assert 'class="elder"' not in client.get("/portal").text


def test_a_visitor_choosing_elder_mode_keeps_it_after_signing_in(seeded, client):  # type: ignore[no-untyped-def]
    assert _switch(client, "on", "/login").status_code == 303
    assert not _elder(seeded, "li.na")
    web_login(client, "li.na")
    assert _elder(seeded, "li.na")
    assert "data-task=" in client.get("/portal").text


def test_the_account_decides_over_a_stale_cookie(seeded, client):  # type: ignore[no-untyped-def]
    web_login(client, "li.na")
    client.cookies.set(display.ELDER_COOKIE, display.ELDER_ON)
    assert 'class="elder"' not in client.get("/portal").text


def test_elder_home_lists_the_few_things_and_every_service_stays_one_link_away(seeded, client):  # type: ignore[no-untyped-def]
    web_login(client, "li.na")
    _switch(client, "on")
    home = client.get("/portal").text
    labels = re.findall(r'<span class="elder-task-label">([^<]+)</span>', home)
    assert labels[:3] == ["办事", "查进度", "我的证件"]
    assert "找人帮我办" in labels  # the proxies page, or the help line where the app has none
    assert 'href="/portal/apply"' in home and 'href="/portal/applications"' in home and 'href="/portal/wallet"' in home
    assert 'href="/portal?all=1"' in home
    full = client.get("/portal?all=1").text
    assert "elder-task" not in full and 'class="tiles"' in full


def test_an_unknown_mode_is_refused_and_changes_nothing(seeded, client):  # type: ignore[no-untyped-def]
    web_login(client, "li.na")
    resp = _switch(client, "huge")
    assert resp.status_code == 422 and "不支持该显示模式" in resp.text
    assert not _elder(seeded, "li.na")
    assert display.ELDER_COOKIE not in resp.headers.get("set-cookie", "")


def test_the_switch_needs_its_csrf_token(seeded, client):  # type: ignore[no-untyped-def]
    web_login(client, "li.na")
    resp = client.post("/preferences/elder", data={"mode": "on"}, follow_redirects=False)
    assert resp.status_code == 403
    assert not _elder(seeded, "li.na")


def test_the_help_line_is_the_nearest_up_the_region_tree_on_every_page(seeded, client):  # type: ignore[no-untyped-def]
    # a visitor: the line nearest the root (海曙区 and 江北区 are both counties: the first by code)
    assert 'href="tel:0574-12345"' in client.get("/login").text
    web_login(client, "li.na")  # community → street → 海曙区
    for path in ("/portal", "/portal/apply", "/no-such-page"):
        assert 'href="tel:0574-12345"' in client.get(path, headers={"Accept": "text/html"}).text, path
    _switch(client, "on")
    page = client.get("/portal").text
    assert 'class="help-line-bar"' in page and "需要帮助？请拨打" in page
    client.post("/logout", data={"csrf_token": _csrf(page)})
    web_login(client, "wang.jb")  # 江北区 has its own
    assert 'href="tel:0574-87654321"' in client.get("/portal").text


def test_no_help_line_when_the_pack_names_none(db, client):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    display.forget()
    assert "tel:" not in client.get("/login").text
    display.forget()


def test_demo_pack_names_a_help_line():  # type: ignore[no-untyped-def]
    from pathlib import Path

    from tongban.core.packs.loader import read_pack

    pack = read_pack(Path(__file__).resolve().parents[2] / "packs" / "demo")
    lines = [r.help_line for pf in pack.files_of("regions") for r in pf.model.regions if r.help_line]
    assert lines == ["0574-12345"]
