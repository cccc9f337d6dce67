"""The resident's lists page as docs/api-conventions.md says (issue #18, item 7): every item once
over all pages, `limit` and `cursor` honoured and checked, summaries in lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from tests.services.conftest import ZHANG_ID, person_id
from tongban import messages
from tongban.core.identity.models import Account
from tongban.registry.models import Certificate


def walk(client, headers, path: str, limit: int) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        url = f"{path}?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        resp = client.get(url, headers=headers)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        assert pages < 100


def test_my_applications_page_through_every_application_once_as_summaries(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    made = []
    for _ in range(7):
        resp = client.post("/api/v1/applications", headers=zhang,
                           json={"onething_id": "onething.birth", "draft": True, "data": {"child_name": "张小明"}})
        assert resp.status_code == 201, resp.text
        made.append(resp.json()["id"])
    items = walk(client, zhang, "/api/v1/me/applications", limit=3)
    assert [a["id"] for a in items] == sorted(made, reverse=True)  # newest first, each once
    first = items[0]
    birth = next(o for o in client.get("/api/v1/onethings", headers=zhang).json()["items"]
                 if o["id"] == "onething.birth")
    assert first["title"] == birth["title"] and first["status"] == "draft"
    assert "data" not in first and "tasks" not in first  # the whole application is at /applications/{id}
    assert client.get(f"/api/v1/applications/{first['id']}", headers=zhang).json()["data"]


def test_my_messages_page_through_every_message_once(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    with demo.unit_of_work() as s:
        account = s.scalars(select(Account).where(Account.username == "resident.zhang")).one()
        for _ in range(23):
            messages.send(s, to=account.id, kind="application.submitted", params={"item": "x", "step": "y"})
    items = walk(client, zhang, "/api/v1/me/messages", limit=10)
    ids = [m["id"] for m in items]
    assert len(ids) == 23 and len(set(ids)) == 23 and ids == sorted(ids, reverse=True)


def test_my_certificates_page_through_every_certificate_once(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    holder = person_id(demo, ZHANG_ID)
    with demo.unit_of_work() as s:
        for i in range(5):
            s.add(Certificate(holder_kind="person", holder_id=holder, type_code="cert.vaccination",
                              number=f"T{i:04d}", issuer_name="疾控中心", issue_date=dt.date(2026, 1, 1),
                              status="valid", data={}))
    zhang = login("resident.zhang")
    items = walk(client, zhang, "/api/v1/me/certificates", limit=2)
    assert sorted(c["number"] for c in items) == [f"T{i:04d}" for i in range(5)]
    assert len({c["id"] for c in items}) == 5


@pytest.mark.parametrize("path", ["/api/v1/me/applications", "/api/v1/me/messages", "/api/v1/me/certificates"])
@pytest.mark.parametrize(("query", "field"), [("limit=0", "limit"), ("limit=201", "limit"), ("limit=x", "limit"),
                                             ("cursor=%25%25", "cursor"), ("cursor=bm90LWFuLWlk", "cursor"),
                                             ("cursor=OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "cursor")])
def test_a_bad_limit_or_cursor_is_422_naming_it(client, login, demo, path: str, query: str, field: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(f"{path}?{query}", headers=login("resident.zhang"))
    assert resp.status_code == 422, resp.text
    assert resp.json()["field"] == field
