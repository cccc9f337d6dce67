"""Registry pages: the resident's records page, the workbench search and person view."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.factories import web_login
from tests.registry.test_read_path import _seed
from tongban.core.audit.models import AuditEvent


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def test_resident_sees_own_record_and_wallet_page(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    web_login(client, "li.ting")
    page = client.get("/portal/record")
    assert page.status_code == 200
    assert "李婷" in page.text and ids["mother_idn"] in page.text
    assert "Q330203000001" in page.text  # the ward's certificate
    assert "Q330203000099" not in page.text  # a stranger's


def test_officer_searches_in_the_body_and_sees_masked_results(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    web_login(client, "officer.mca")
    form = client.get("/workbench/persons")
    assert form.status_code == 200
    r = client.post("/workbench/persons", data={"id_number": ids["mother_idn"], "csrf_token": _csrf(form.text)})
    assert r.status_code == 200
    assert "李*" in r.text and ids["mother_idn"] not in r.text
    assert f"/workbench/persons/{ids['mother']}" in r.text


def test_search_without_csrf_is_refused(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    web_login(client, "officer.mca")
    r = client.post("/workbench/persons", data={"id_number": ids["mother_idn"]})
    assert r.status_code == 403
    with db.unit_of_work() as s:
        assert not s.scalars(select(AuditEvent).where(AuditEvent.action == "person.search")).all()


def test_unmask_with_purpose_on_the_person_page(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    web_login(client, "officer.mca")
    page = client.get(f"/workbench/persons/{ids['mother']}")
    assert page.status_code == 200 and "李*" in page.text
    short = client.post(f"/workbench/persons/{ids['mother']}/unmask",
                        data={"purpose": "x", "csrf_token": _csrf(page.text)})
    assert short.status_code == 422
    full = client.post(f"/workbench/persons/{ids['mother']}/unmask",
                       data={"purpose": "低保复核入户", "csrf_token": _csrf(page.text)})
    assert full.status_code == 200 and ids["mother_idn"] in full.text


def test_officer_of_another_region_gets_a_403_page(db, client):  # type: ignore[no-untyped-def]
    ids = _seed(db)
    web_login(client, "officer.jb")
    r = client.get(f"/workbench/persons/{ids['mother']}", headers={"Accept": "text/html"})
    assert r.status_code == 403 and "李" not in r.text


def test_code_values_are_shown_in_the_readers_language(db, client):  # type: ignore[no-untyped-def]
    _seed(db)
    web_login(client, "li.ting")
    zh = client.get("/portal/record").text
    assert "已婚" in zh and "户主" in zh and "married" not in zh
    client.cookies.set("tongban_locale", "en")
    en = client.get("/portal/record").text
    assert "Married" in en and "Head of household" in en
