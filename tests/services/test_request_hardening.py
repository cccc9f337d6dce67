"""Bad input at the API answers 4xx naming the field and writes nothing (issue #18, items 2, 3, 4):
NUL bytes, lone surrogates, integers beyond 64 bits, names and free text that break the
character rules of the data elements."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.services.conftest import birth_data
from tongban.registry.models import CorrectionRequest
from tongban.services.models import Application

BIG = 2**64 + 1  # beyond what a BIGINT (or orjson) holds
PROBLEM = "application/problem+json"


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def submit(client, headers, data: dict[str, Any], key: str = "h-1", **body: Any):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/applications", headers={**headers, "Idempotency-Key": key},
                       json={"onething_id": "onething.birth", "data": data, **body})


def refused(resp, field: str, status: int = 422) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = resp.json()
    assert body["field"] == field, body
    return body


# --- item 2: NUL --------------------------------------------------------------------------------


def test_a_nul_in_a_form_field_is_refused_before_anything_is_stored(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    body = refused(submit(client, zhang, birth_data(child_name="张\x00小明")), "data.child_name")
    assert body["type"].endswith("/invalid")
    refused(submit(client, zhang, birth_data(mailing_address="解放南路\x00128号"), key="h-2"),
            "data.mailing_address")
    refused(submit(client, zhang, {"child_name": "\x00"}, key="h-3", draft=True), "data.child_name")
    assert count(demo, Application) == 0


def test_a_nul_in_a_registry_search_or_a_correction_is_refused(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    staff = login("officer.mca")
    refused(client.post("/api/v1/registry/persons/search", headers=staff,
                        json={"name": "张\x00明", "birth_date": "1992-03-15"}), "name")
    zhang = login("resident.zhang")
    refused(client.post("/api/v1/me/corrections", headers=zhang,
                        json={"field": "name", "requested_value": "张\x00明", "reason": "户口本上写错了"}),
            "requested_value")
    refused(client.post("/api/v1/me/corrections", headers=zhang,
                        json={"field": "phone", "requested_value": "13800000101", "reason": "号码\x00换了"}),
            "reason")
    assert count(demo, CorrectionRequest) == 0


def test_a_nul_in_a_query_string_or_a_login_form_is_refused(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    refused(client.post("/api/v1/auth/token", data={"username": "resident.zhang\x00", "password": "x"}),
            "username")
    officer = login("officer.mca")
    refused(client.get("/api/v1/audit/events?action=a%00b", headers=officer), "action")


# --- item 4: lone surrogates, integers beyond 64 bits -------------------------------------------


def test_a_lone_surrogate_in_json_is_refused_naming_the_field(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = {**login("resident.zhang"), "Idempotency-Key": "s-1", "Content-Type": "application/json"}
    raw = '{"onething_id": "onething.birth", "data": {"child_name": "\\ud800\\u5f20"}}'
    refused(client.post("/api/v1/applications", headers=zhang, content=raw.encode()), "data.child_name")
    raw = '{"onething_id": "onething.birth", "data": {"mailing_address": "a\\udc00"}, "draft": true}'
    refused(client.post("/api/v1/applications", headers=zhang, content=raw.encode()), "data.mailing_address")
    # A pair is one character (𠮷, U+20BB7), and an escaped backslash is not an escape.
    raw = '{"onething_id": "onething.birth", "data": {"child_name": "\\ud842\\udfb7", ' \
          '"mailing_address": "\\\\ud800"}, "draft": true}'
    ok = client.post("/api/v1/applications", headers=zhang, content=raw.encode())
    assert ok.status_code == 201, ok.text
    assert ok.json()["data"] == {"child_name": "𠮷", "mailing_address": "\\ud800"}


@pytest.mark.parametrize("path", [
    f"/api/v1/applications/{BIG}", f"/api/v1/registry/persons/{BIG}", f"/api/v1/screening/runs/{BIG}",
    f"/api/v1/applications/1/tasks/{BIG}/supplement", f"/api/v1/certificates/{BIG}/verify",
    f"/api/v1/me/certificates/{BIG}/document", f"/api/v1/screening/runs/{BIG}/cases",
])
def test_an_id_beyond_64_bits_in_a_path_is_422_naming_it(client, login, demo, path: str) -> None:  # type: ignore[no-untyped-def]
    headers = login("officer.mca")
    resp = client.post(path, headers=headers, json={"data": {}}) if path.endswith("supplement") \
        else client.get(path, headers=headers)
    name = path.split("/")[-2] if path.split("/")[-1].isdigit() else path.split("/")[-3]
    field = {"applications": "application_id", "persons": "person_id", "runs": "run_id", "tasks": "task_id",
             "certificates": "certificate_id"}[name]
    body = refused(resp, field)
    assert body["errors"][0]["code"] == "less_than_equal"


def test_ids_beyond_64_bits_in_bodies_and_queries_are_422(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    refused(submit(client, zhang, birth_data(), on_behalf_of=BIG), "on_behalf_of")
    refused(submit(client, zhang, birth_data(), key="b-2", consent_id=BIG), "consent_id")
    refused(client.get(f"/api/v1/onethings/onething.birth/form?consent_id={BIG}", headers=zhang), "consent_id")
    refused(client.post(f"/api/v1/registry/corrections/{BIG}/decision", headers=login("officer.mca"),
                        json={"decision": "approve", "reason": "核实无误"}), "request_id")
    refused(client.post("/api/v1/workbench/tasks/1/decision", headers=login("officer.health"),
                        json={"decision": "approve", "version": BIG}), "version")
    # An integer data element holds what a 64-bit column holds.
    chen = login("resident.chen")
    resp = client.post("/api/v1/applications", headers={**chen, "Idempotency-Key": "b-3"},
                       json={"item_id": "item.dibao", "draft": True, "data": {"household_size": BIG}})
    refused(resp, "data.household_size")
    assert count(demo, Application) == 0


def test_a_cursor_beyond_64_bits_is_422_not_500(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    import base64

    cursor = base64.urlsafe_b64encode(str(BIG).encode()).decode()
    refused(client.get(f"/api/v1/me/messages?cursor={cursor}", headers=login("resident.zhang")), "cursor")


# --- item 3: character rules --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["张三", "欧阳娜娜", "阿卜杜拉·艾合买提", "𠮷", "Anna Müller", "O'Brien",
                                  "Jean-Luc Picard"])
def test_good_names_are_accepted(client, login, demo, name: str) -> None:  # type: ignore[no-untyped-def]
    resp = submit(client, login("resident.zhang"), birth_data(child_name=name))
    assert resp.status_code == 201, resp.text
    assert resp.json()["data"]["child_name"] == name


def test_name_variants_are_stored_in_one_form(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    resp = submit(client, login("resident.zhang"), birth_data(child_name="阿卜杜拉•艾合买提"))
    assert resp.status_code == 201, resp.text
    assert resp.json()["data"]["child_name"] == "阿卜杜拉·艾合买提"


@pytest.mark.parametrize("name", ["<img src=x onerror=alert(1)>", "张三😀", "张\u202e三", "张\x07三", "张三1",
                                  "张" * 51, "·张三", "张··三", "Anna  Müller", "Анна"])
def test_bad_names_are_refused_in_the_callers_language(client, login, demo, name: str) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    body = refused(submit(client, zhang, birth_data(child_name=name)), "data.child_name")
    assert any("一" <= ch <= "鿿" for ch in body["detail"]), body  # zh by default
    en = submit(client, {**zhang, "Accept-Language": "en"}, birth_data(child_name=name), key="en")
    assert en.status_code == 422 and en.json()["field"] == "data.child_name"
    assert en.json()["detail"].isascii()
    assert count(demo, Application) == 0


@pytest.mark.parametrize("value", ["解放南路\u202e128号", "解放南路\u2066128号", "解放\x1b南路", "a" * 201])
def test_free_text_refuses_control_and_bidi_characters_and_overlong_values(client, login, demo, value: str) -> None:  # type: ignore[no-untyped-def]
    refused(submit(client, login("resident.zhang"), birth_data(mailing_address=value)), "data.mailing_address")


def test_free_text_keeps_markup_and_emoji_as_text_and_pages_escape_it(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    from tests.services.test_pages import as_user, task_of

    place = "<img src=x onerror=alert(1)>宁波市妇女儿童医院 🏥"
    resp = submit(client, login("resident.zhang"), birth_data(child_birth_place=place))
    assert resp.status_code == 201, resp.text
    assert resp.json()["data"]["child_birth_place"] == place  # text, kept as typed
    as_user(client, "officer.health")
    page = client.get(f"/workbench/tasks/{task_of(resp.json(), 'item.birth-certificate')['id']}")
    assert page.status_code == 200
    assert "&lt;img src=x onerror=alert(1)&gt;宁波市妇女儿童医院 🏥" in page.text and "<img src=x" not in page.text


def test_ids_beyond_64_bits_on_pages_are_refused_not_500(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    from tests.services.test_pages import as_user

    as_user(client, "resident.zhang")
    assert client.get(f"/portal/applications/{BIG}").status_code == 422
    assert client.get(f"/portal/apply/onething.birth/form?consent_id={BIG}").status_code == 404


def test_reasons_and_corrections_follow_the_free_text_and_name_rules(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    refused(client.post("/api/v1/me/corrections", headers=zhang,
                        json={"field": "name", "requested_value": "<b>张明</b>", "reason": "户口本上写错了"}),
            "requested_value")
    refused(client.post("/api/v1/me/corrections", headers=zhang,
                        json={"field": "phone", "requested_value": "13800000101", "reason": "换了\u202e号码"}),
            "reason")
    refused(client.post("/api/v1/workbench/tasks/1/decision", headers=login("officer.health"),
                        json={"decision": "reject", "reason": "材料\u202e不全", "version": 1}), "reason")
    assert count(demo, CorrectionRequest) == 0


def test_an_officers_outputs_follow_their_data_elements_rules(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    from tests.services.test_more_onethings import WANG, apply, decide

    wang = login("resident.wang")
    app = apply(client, wang, "onething.disability", WANG, "outputs-1")
    decide(client, login("officer.disabled.yuehu"), app["id"], "item.disability-card")
    federation = login("officer.disabled")
    bad = decide(client, federation, app["id"], "item.disability-card", expect=422,
                 outputs={"disability_grade": "<img src=x onerror=alert(1)>"})
    assert bad["field"] == "outputs.disability_grade"
    card = decide(client, federation, app["id"], "item.disability-card", outputs={"disability_grade": "2"})
    assert card["status"] == "approved"
