"""Item 6 of #18: a resident acting on another's object, or on none, gets the same 404 and the
refusal is audited either way (so 403 against 404 tells nobody which ids exist)."""

from __future__ import annotations

from tests.factories import refusals as _refusals


def test_another_residents_objects_and_missing_ones_get_one_audited_404(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang, li = login("resident.zhang"), login("resident.li")
    draft = client.post("/api/v1/applications", headers=zhang,
                        json={"onething_id": "onething.birth", "draft": True, "data": {"child_name": "张小明"}})
    assert draft.status_code == 201, draft.text
    mine, missing = draft.json()["id"], 999_999
    before = len(_refusals(demo))
    calls = []
    for app_id in (mine, missing):
        calls += [
            ("put", f"/api/v1/applications/{app_id}", {"data": {"child_name": "李四"}}),
            ("post", f"/api/v1/applications/{app_id}/submit", None),
            ("post", f"/api/v1/applications/{app_id}/withdraw", None),
        ]
    calls += [
        ("delete", f"/api/v1/me/authorisations/{missing}", None),
        ("post", f"/api/v1/me/consents/{missing}/withdraw", None),
        ("get", f"/api/v1/me/certificates/{missing}/document", None),
        ("get", f"/api/v1/certificates/{missing}/qr.svg", None),
    ]
    bodies = {}
    for method, url, body in calls:
        kw = {"json": body} if body is not None else {}
        h = {**li, "Idempotency-Key": f"k-{len(bodies)}"}
        r = client.request(method.upper(), url, headers=h, **kw)
        assert r.status_code == 404, (method, url, r.status_code, r.text)
        bodies[url, method] = r.json()["title"]
    # The same answer whether the draft exists (zhang's) or not.
    assert bodies[f"/api/v1/applications/{mine}", "put"] == bodies[f"/api/v1/applications/{missing}", "put"]
    # Every one is audited: those of one action in one minute as one event with their count.
    refusals = _refusals(demo)[before:]
    assert sum(r["count"] for r in refusals) == len(calls)
    assert all(r["status"] == 404 for r in refusals)
