"""Governance pages: the department's quality issues with their next step (CSRF-protected forms),
the catalog page with the quality score history, the public open-data page."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.factories import web_login
from tests.governance.test_quality_loop import _run, seed_defects
from tongban.governance.models import QualityIssue


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_workbench_lists_own_issues_and_moves_one_with_a_form(db, city, client):  # type: ignore[no-untyped-def]
    seed_defects(db, city)
    _run(db)
    assert web_login(client, "steward.mca").status_code == 303
    page = client.get("/workbench/quality", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert "已死亡人员不应仍在享受待遇" in page.text and "q.person.id-number" not in page.text
    with db.unit_of_work() as s:
        issue_id = s.scalar(select(QualityIssue.id).where(QualityIssue.rule_id == "q.enrolment.deceased"))
    no_token = client.post(f"/workbench/quality/{issue_id}/acknowledge", data={"plan": "停发并追回"})
    assert no_token.status_code == 403
    r = client.post(f"/workbench/quality/{issue_id}/acknowledge",
                    data={"plan": "停发并追回待遇", "csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    with db.unit_of_work() as s:
        assert s.get_one(QualityIssue, issue_id).status == "rectifying"
    assert "已整改，提请核验" in client.get("/workbench/quality", headers={"Accept-Language": "zh-CN"}).text


def test_catalog_page_shows_the_score_and_its_history(db, city, client):  # type: ignore[no-untyped-def]
    _run(db)
    seed_defects(db, city)
    _run(db)
    web_login(client, "steward.police")
    page = client.get("/workbench/catalog?q=ds.person").text
    assert "data-quality-history" in page and 'name="tongban-echarts"' in page  # drawn after first paint
    assert page.count("<tr><td>") >= 2 and "100.0" in page


def test_open_page_needs_no_login_and_offers_applications_to_signed_in_users(db, city, client):  # type: ignore[no-untyped-def]
    anonymous = client.get("/open").text
    assert "/open/datasets/ds.entity.parquet" in anonymous and 'action="/open/applications"' not in anonymous
    web_login(client, "chen")
    page = client.get("/open").text
    assert 'action="/open/applications"' in page
    r = client.post("/open/applications", data={"dataset_id": "ds.household", "purpose": "住房研究",
                                                "accept_terms": "1", "csrf_token": _csrf(page)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/open?applied=1"
