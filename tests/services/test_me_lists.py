"""The resident's lists page as docs/api-conventions.md says (issue #18, item 7): every item once
over all pages, `limit` and `cursor` honoured and checked, summaries in lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from tests.services.conftest import LI_ID, ZHANG_ID, person_id
from tongban import messages
from tongban.core import masking
from tongban.core.audit.log import record
from tongban.core.identity.models import Account
from tongban.core.timeutil import utcnow
from tongban.datahub.models import Consent, DataUse
from tongban.registry.models import Certificate, CorrectionRequest
from tongban.services.models import Authorisation


def walk(client, headers, path: str, limit: int) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        sep = "&" if "?" in path else "?"
        url = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
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


def test_my_wallet_pages_through_every_certificate_once(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    holder = person_id(demo, ZHANG_ID)
    with demo.unit_of_work() as s:
        for i in range(5):
            s.add(Certificate(holder_kind="person", holder_id=holder, type_code="cert.vaccination",
                              number=f"W{i:04d}", issuer_name="疾控中心", issue_date=dt.date(2026, 1, 1),
                              status="valid", data={}))
    zhang = login("resident.zhang")
    everything = client.get("/api/v1/me/wallet?limit=200", headers=zhang).json()
    assert everything["next_cursor"] is None
    items = walk(client, zhang, "/api/v1/me/wallet", limit=2)
    assert [c["id"] for c in items] == [c["id"] for c in everything["items"]]  # newest first, each once
    assert [c["id"] for c in items] == sorted((c["id"] for c in items), reverse=True)
    assert {f"W{i:04d}" for i in range(5)} <= {c["number"] for c in items}


def test_my_corrections_authorisations_and_consents_page_through_every_item_once(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang, li = person_id(demo, ZHANG_ID), person_id(demo, LI_ID)
    now = utcnow()
    with demo.unit_of_work() as s:
        for i in range(5):
            s.add(CorrectionRequest(person_id=zhang, field="phone", requested_value=f"1370000{i:04d}", reason="r",
                                    department_id="dept.haishu.police"))
            s.add(Authorisation(grantor_person_id=zhang if i % 2 else li, proxy_person_id=li if i % 2 else zhang,
                                scope="all", valid_until=now + dt.timedelta(days=30)))
            s.add(Consent(person_id=zhang, scope="onething.birth", purpose=f"purpose {i}", valid_from=now,
                          valid_to=now + dt.timedelta(days=30)))
    headers = login("resident.zhang")
    for path in ("/api/v1/me/corrections", "/api/v1/me/authorisations", "/api/v1/me/consents"):
        everything = client.get(f"{path}?limit=200", headers=headers).json()
        assert everything["next_cursor"] is None and len(everything["items"]) >= 5, path
        items = walk(client, headers, path, limit=2)
        ids = [x["id"] for x in items]
        assert ids == [x["id"] for x in everything["items"]] and ids == sorted(set(ids), reverse=True), path


def test_my_data_uses_page_through_every_read_once_even_at_one_instant(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    """The reads come from the audit chain and the exchange's data uses: the cursor is a time,
    and reads at the same instant are never split across pages (none skipped)."""
    zhang = person_id(demo, ZHANG_ID)
    subject = masking.subject("person", zhang)
    base = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
    with demo.unit_of_work() as s:
        for i in range(7):
            s.add(DataUse(audit_event_id=i + 1, subject=subject, department_id="dept.haishu.mca",
                          dataset_id="ds.person", purpose=f"use {i}", at=base + dt.timedelta(minutes=i // 2)))
        for i in range(3):
            e = record(s, actor="account:1", action="person.read", subject=subject, purpose=f"read {i}",
                       actor_department="dept.haishu.police")
            e.at = base + dt.timedelta(minutes=10 + i)
    headers = login("resident.zhang")
    everything = client.get("/api/v1/me/data-uses?limit=200", headers=headers).json()
    assert everything["next_cursor"] is None
    purposes = sorted(u["purpose"] for u in everything["items"])
    assert {f"use {i}" for i in range(7)} | {f"read {i}" for i in range(3)} <= set(purposes)
    for limit in (1, 2, 3):
        items = walk_loose(client, headers, "/api/v1/me/data-uses", limit=limit)
        assert sorted(u["purpose"] for u in items) == purposes, limit  # every read once
        ats = [u["at"] for u in items]
        assert ats == sorted(ats, reverse=True)


def walk_loose(client, headers, path: str, limit: int) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """As `walk`, but a page may hold more than `limit` items (reads at one instant stay together)."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        resp = client.get(f"{path}?limit={limit}" + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        assert resp.status_code == 200, resp.text
        items += resp.json()["items"]
        cursor = resp.json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("no last page")


@pytest.mark.parametrize("path", ["/api/v1/me/applications", "/api/v1/me/messages", "/api/v1/me/certificates",
                                  "/api/v1/me/wallet", "/api/v1/me/corrections", "/api/v1/me/authorisations",
                                  "/api/v1/me/offers", "/api/v1/me/consents", "/api/v1/me/data-uses"])
@pytest.mark.parametrize(("query", "field"), [("limit=0", "limit"), ("limit=201", "limit"), ("limit=x", "limit"),
                                             ("cursor=%25%25", "cursor"), ("cursor=bm90LWFuLWlk", "cursor"),
                                             ("cursor=OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "cursor")])
def test_a_bad_limit_or_cursor_is_422_naming_it(client, login, demo, path: str, query: str, field: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(f"{path}?{query}", headers=login("resident.zhang"))
    assert resp.status_code == 422, resp.text
    assert resp.json()["field"] == field
