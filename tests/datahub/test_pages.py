"""Data hub pages: the catalog for staff, consents and data uses for residents."""

from __future__ import annotations

import re

from tests.datahub.test_exchange import hub  # noqa: F401 - fixture
from tests.factories import token_for, web_login


def test_catalog_page_lists_datasets_with_grades(hub, client):  # type: ignore[no-untyped-def]  # noqa: F811
    web_login(client, "steward.mca")
    page = client.get("/workbench/catalog", params={"q": "人口"})
    assert page.status_code == 200
    assert "ds.person" in page.text and "L4" in page.text and "ds.income" not in page.text


def test_resident_withdraws_a_consent_on_the_page(hub, client):  # type: ignore[no-untyped-def]  # noqa: F811
    api = token_for(client, "chen")
    client.post("/api/v1/me/consents", headers=api, json={
        "department_id": "dept.haishu.mca", "dataset_id": "ds.person", "purpose": "申请低保", "days": 7})
    web_login(client, "chen")
    page = client.get("/portal/data")
    assert page.status_code == 200 and "申请低保" in page.text
    action = re.search(r'action="(/portal/data/consents/\d+/withdraw)"', page.text).group(1)  # type: ignore[union-attr]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert client.post(action, data={}).status_code == 403  # no CSRF token: refused
    r = client.post(action, data={"csrf_token": token}, follow_redirects=True)
    assert r.status_code == 200
    consents = client.get("/api/v1/me/consents", headers=api).json()["items"]
    assert consents[0]["active"] is False
