"""Issue #18 item 7: a run's cases and a resident's offers page with `core.paging` (limit and
cursor, each item once, a bad value a 422 naming it) instead of a silent cut at 100 or none."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.screening.conftest import PASSWORD, City
from tests.services.conftest import DEMO_PASSWORD
from tests.services.test_me_lists import walk
from tongban.screening.models import Offer


def _token(client, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def test_cases_and_offers_page_through_every_item_once(client, city: City) -> None:  # type: ignore[no-untyped-def]
    officer = _token(client, "officer.mca")
    assert client.post("/api/v1/screening/runs", json={}, headers=officer).status_code == 201
    run_id = client.get("/api/v1/screening/runs", headers=officer).json()["items"][0]["id"]
    path = f"/api/v1/screening/runs/{run_id}/cases"
    everything = client.get(f"{path}?limit=200", headers=officer).json()
    assert everything["next_cursor"] is None and len(everything["items"]) >= 2
    items = walk(client, officer, path, limit=1)
    assert [c["id"] for c in items] == [c["id"] for c in everything["items"]]
    assert [c["id"] for c in items] == sorted({c["id"] for c in items})  # oldest first, each once
    for query, field in (("limit=0", "limit"), ("limit=201", "limit"), ("cursor=bm90LWFuLWlk", "cursor")):
        r = client.get(f"{path}?{query}", headers=officer)
        assert (r.status_code, r.json()["field"]) == (422, field), query

    with client.app.state.db.unit_of_work() as s:
        offer = s.scalars(select(Offer).where(Offer.person_id == city.under)).first()
        assert offer is not None
        copied: dict[str, Any] = {c.key: getattr(offer, c.key) for c in Offer.__table__.columns if c.key != "id"}
        for _ in range(4):
            s.add(Offer(**copied))
    under = _token(client, "resident.under", PASSWORD)
    everything = client.get("/api/v1/me/offers?all=true&limit=200", headers=under).json()
    assert len(everything["items"]) >= 5 and everything["next_cursor"] is None
    items = walk(client, under, "/api/v1/me/offers?all=true", limit=2)
    assert [o["id"] for o in items] == [o["id"] for o in everything["items"]]
    assert [o["id"] for o in items] == sorted({o["id"] for o in items}, reverse=True)


