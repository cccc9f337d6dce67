"""The OpenAPI document tells the truth (issue #18 item 8): every operation documents its
problem+json answers, Idempotency-Key is required where it is, the bounds and enums the server
enforces are in the schema, 400s have a documented type, and 405 says what is allowed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.factories import make_resident, make_staff, seed_base, token_for

CONVENTIONS = Path(__file__).resolve().parents[2] / "docs" / "api-conventions.md"


@pytest.fixture()
def document(client):  # type: ignore[no-untyped-def]
    return client.get("/api/v1/openapi.json").json()


def _operations(document):  # type: ignore[no-untyped-def]
    for path, item in document["paths"].items():
        for method, op in item.items():
            yield path, method, op


def _param(op, name):  # type: ignore[no-untyped-def]
    return next(p for p in op.get("parameters", []) if p["name"] == name)


def test_every_api_operation_documents_its_problem_answers(document):  # type: ignore[no-untyped-def]
    assert "Problem" in document["components"]["schemas"]
    api = [(p, m, op) for p, m, op in _operations(document) if p.startswith("/api/")]
    assert len(api) > 50
    for path, method, op in api:
        for status in ("400", "401", "403", "404", "409", "422"):
            content = op["responses"].get(status, {}).get("content", {})
            assert content.get("application/problem+json", {}).get("schema") == {
                "$ref": "#/components/schemas/Problem"}, (method, path, status)
            assert "application/json" not in content, (method, path, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_idempotency_key_is_required_where_it_is(document):  # type: ignore[no-untyped-def]
    submit = document["paths"]["/api/v1/applications/{application_id}/submit"]["post"]
    assert _param(submit, "Idempotency-Key")["required"] is True
    first = document["paths"]["/api/v1/applications"]["post"]
    assert "draft" in _param(first, "Idempotency-Key")["description"]


def test_bounds_and_enums_the_server_enforces_are_in_the_document(document):  # type: ignore[no-untyped-def]
    paths = document["paths"]
    for path in ("/api/v1/me/applications", "/api/v1/workbench/tasks"):
        schema = _param(paths[path]["get"], "limit")["schema"]
        assert (schema["minimum"], schema["maximum"]) == (1, 200), path
    assert _param(paths["/api/v1/screening/runs/{run_id}"]["get"], "level")["schema"]["enum"] == [6, 9, 12]
    life_event = _param(paths["/api/v1/catalog/items"]["get"], "life_event")["schema"]
    assert "birth" in str(life_event)
    schemas = document["components"]["schemas"]
    assert schemas["tongban__services__api__DecisionIn"]["properties"]["decision"]["enum"] == ["approve", "return", "reject"]
    assert schemas["BilingualName"]["required"] == ["zh", "en"]
    assert schemas["QueryIn"]["properties"]["limit"]["maximum"] == 10_000
    for path in ("/api/v1/cases", "/api/v1/cases/mine"):
        schema = _param(paths[path]["get"], "limit")["schema"]
        assert (schema["minimum"], schema["maximum"]) == (1, 200), path
    assert _param(paths["/api/v1/cases"]["get"], "tab")["schema"]["enum"] == ["open", "intake", "overdue",
                                                                              "answered", "closed"]
    near = paths["/api/v1/places/near"]["get"]
    assert (_param(near, "lat")["schema"]["minimum"], _param(near, "lat")["schema"]["maximum"]) == (-90, 90)
    assert _param(near, "radius_m")["schema"]["exclusiveMinimum"] == 0
    preference = schemas["PreferenceIn"]["properties"]
    assert preference["quiet_end"]["anyOf"][0]["pattern"].startswith("^$|")
    assert "422" in paths["/api/v1/codes/qr/{code}.{kind}"]["get"]["responses"]


def test_workbench_limit_over_200_is_refused(db, client):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
        make_staff(s, "wang.officer", department_id="dept.haishu.mca", roles=["officer"])
    resp = client.get("/api/v1/workbench/tasks?limit=201", headers=token_for(client, "wang.officer"))
    assert resp.status_code == 422 and resp.json()["field"] == "limit"


def test_every_problem_type_answered_is_documented(client):  # type: ignore[no-untyped-def]
    documented = set(re.findall(r"^\| `([a-z-]+)` \| \d{3} \|", CONVENTIONS.read_text(), re.M))
    bad = client.post("/login", content=b"\xff", headers={"content-type": "multipart/form-data"})
    assert bad.status_code == 400
    assert bad.json()["type"].rsplit("/", 1)[1] == "bad-request" and "bad-request" in documented
    assert "too-large" in documented


def test_a_wrong_method_is_405_with_allow(client):  # type: ignore[no-untyped-def]
    resp = client.delete("/api/v1/openapi.json")
    assert resp.status_code == 405
    assert "GET" in resp.headers["allow"]
    assert resp.json()["type"].endswith("/method-not-allowed")
    resp = client.put("/api/v1/auth/token")
    assert resp.status_code == 405 and "POST" in resp.headers["allow"]


def test_a_path_word_is_not_taken_for_an_id_or_a_channel(client):  # type: ignore[no-untyped-def]
    # POST-only paths beside a GET/DELETE `{id}` route: another method is a 405 naming POST only,
    # not a 422 for an id (or a channel) that "suggest", "import" or "verify" is not.
    for method, path in (("GET", "/api/v1/cases/suggest"), ("GET", "/api/v1/places/import"),
                         ("DELETE", "/api/v1/me/contacts/verify")):
        resp = client.request(method, path)
        assert resp.status_code == 405, path
        assert resp.headers["allow"] == "POST", path


def test_messaging_preference_takes_booleans_and_times_only(db, client):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
        make_resident(s, "li.resident")
    auth = token_for(client, "li.resident")
    url = "/api/v1/me/messaging/preference"
    resp = client.put(url, json={"email": False, "sms": 0}, headers=auth)
    assert resp.status_code == 422 and resp.json()["field"] == "sms"
    resp = client.put(url, json={"quiet_start": "22:00", "quiet_end": "0000000"}, headers=auth)
    assert resp.status_code == 422 and resp.json()["field"] == "quiet_end"
    resp = client.put(url, json={"quiet_start": "22:00", "quiet_end": "07:00"}, headers=auth)
    assert resp.status_code == 200 and resp.json()["quiet_end"] == "07:00"
