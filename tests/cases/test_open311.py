"""Open311 GeoReport v2 at /open311/v2/, driven with a plain HTTP client as the specification
describes it: form-encoded POST with an api_key, JSON answers, errors as [{code, description}]."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tongban.cases.models import Case


def _key(cli) -> str:  # type: ignore[no-untyped-def]
    result = cli("cases", "key-create", "city app")
    assert result.exit_code == 0, result.output
    found = re.search(r"(o311_[A-Za-z0-9_-]+)", result.output)
    assert found
    return found.group(1)


def test_the_open311_round_trip(client, login, cli, db):  # type: ignore[no-untyped-def]
    key = _key(cli)
    services = client.get("/open311/v2/services.json")
    assert services.status_code == 200
    codes = {s["service_code"]: s for s in services.json()}
    assert "case.road" in codes and "grid.garbage" not in codes  # grid categories are not public services
    assert codes["case.road"]["metadata"] is False and codes["case.road"]["type"] == "realtime"
    definition = client.get("/open311/v2/services/case.road.json")
    assert definition.status_code == 200 and definition.json() == {"service_code": "case.road", "attributes": []}

    r = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "case.road", "lat": "29.8661", "long": "121.5443",
        "address_string": "解放南路128号门口", "description": "人行道地砖松动，老人容易绊倒",
        "first_name": "洋", "last_name": "刘", "phone": "13800000998"})
    assert r.status_code == 201, r.text
    [created] = r.json()
    request_id = created["service_request_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)

    [one] = client.get(f"/open311/v2/requests/{request_id}.json").json()
    assert one["status"] == "open" and one["service_code"] == "case.road"
    assert one["agency_responsible"] and one["lat"] == 29.866 and one["long"] == 121.544
    # Public: no reporter, no description, the address cut after its road.
    text = str(one)
    assert "刘洋" not in text and "13800000998" not in text and "绊倒" not in text and "128" not in text

    # The department answers, the operator closes: the request reads closed with the answer.
    with db.unit_of_work() as s:
        case_id = s.scalar(select(Case.id).where(Case.public_id == request_id))
        assert s.get(Case, case_id).channel == "api" and s.get(Case, case_id).datum == "WGS84"
    housing, operator = login("officer.housing"), login("hotline.haishu")
    assert client.post(f"/api/v1/cases/{case_id}/accept", headers=housing, json={}).status_code == 200
    assert client.post(f"/api/v1/cases/{case_id}/reply", headers=housing, json={"text": "已修复地砖。"}).status_code == 200
    assert client.post(f"/api/v1/cases/{case_id}/close", headers=operator, json={}).status_code == 200
    listed = client.get("/open311/v2/requests.json", params={"status": "closed", "service_code": "case.road"}).json()
    assert [x["service_request_id"] for x in listed] == [request_id]
    assert listed[0]["status"] == "closed" and listed[0]["status_notes"] == "已修复地砖。"
    assert client.get("/open311/v2/requests.json", params={"status": "open"}).json() == []


def test_open311_errors_follow_the_specification_and_write_nothing(client, demo, cli, db):  # type: ignore[no-untyped-def]
    key = _key(cli)
    r = client.post("/open311/v2/requests.json", data={"api_key": "wrong", "service_code": "case.road",
                                                       "description": "路面有坑", "address_string": "解放南路"})
    assert r.status_code == 403 and r.json()[0]["code"] == 403
    r = client.post("/open311/v2/requests.json", data={"api_key": key, "service_code": "nope",
                                                       "description": "路面有坑", "address_string": "解放南路"})
    assert r.status_code == 404 and r.json()[0]["code"] == 404
    r = client.post("/open311/v2/requests.json", data={"api_key": key, "service_code": "case.road",
                                                       "description": "路边车祸有人受伤", "address_string": "解放南路"})
    assert r.status_code == 400 and "122" in r.json()[0]["description"]
    r = client.post("/open311/v2/requests.json", data={"api_key": key, "service_code": "case.road",
                                                       "description": "人行道地砖松动很久了"})
    assert r.status_code == 400 and r.json()[0]["description"].startswith("address_string")
    assert client.get("/open311/v2/requests/0123456789abcdef0123456789abcdef.json").status_code == 404
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_a_report_is_never_listed_in_open311(client, login, cli):  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/cases", headers=login("resident.zhang"), json={
        "description": "某餐馆无证经营并销售过期食品", "category_id": "case.food", "region_code": "330203001001",
        "address": "解放南路200号"})
    assert r.status_code == 201
    public_id = r.json()["public_id"]
    assert client.get(f"/open311/v2/requests/{public_id}.json").status_code == 404
    assert client.get("/open311/v2/requests.json").json() == []


def test_open311_in_xml_with_the_specifications_elements(client, demo, cli, db):  # type: ignore[no-untyped-def]
    import xml.etree.ElementTree as ET

    key = _key(cli)
    r = client.get("/open311/v2/services.xml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(r.content)
    assert root.tag == "services"
    road = next(s for s in root.findall("service") if s.findtext("service_code") == "case.road")
    assert road.findtext("metadata") == "false" and road.findtext("type") == "realtime" and road.findtext("service_name")
    assert len(root.findall("service")) == len(client.get("/open311/v2/services.json").json())
    definition = ET.fromstring(client.get("/open311/v2/services/case.road.xml").content)
    assert definition.tag == "service_definition" and definition.findtext("service_code") == "case.road"
    assert definition.find("attributes") is not None and list(definition.find("attributes")) == []  # type: ignore[arg-type]

    r = client.post("/open311/v2/requests.xml", data={
        "api_key": key, "service_code": "case.road", "lat": "29.8661", "long": "121.5443",
        "address_string": "解放南路128号门口", "description": "人行道地砖松动，老人容易绊倒", "phone": "13800000998"})
    assert r.status_code == 201, r.text
    created = ET.fromstring(r.content)
    assert created.tag == "service_requests"
    request_id = created.findtext("request/service_request_id")
    assert request_id and re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert created.find("request/account_id") is not None  # present and empty, as the specification shows

    one = ET.fromstring(client.get(f"/open311/v2/requests/{request_id}.xml").content)
    assert one.tag == "service_requests" and one.findtext("request/status") == "open"
    assert one.findtext("request/lat") == "29.866" and one.findtext("request/service_code") == "case.road"
    assert b"13800000998" not in ET.tostring(one) and "绊倒" not in ET.tostring(one, encoding="unicode")
    listed = ET.fromstring(client.get("/open311/v2/requests.xml", params={"status": "open"}).content)
    assert [x.findtext("service_request_id") for x in listed.findall("request")] == [request_id]

    # Errors as <errors><error><code/><description/></error></errors>; nothing written.
    r = client.post("/open311/v2/requests.xml", data={"api_key": "wrong", "service_code": "case.road",
                                                      "description": "人行道地砖松动", "address_string": "解放南路"})
    assert r.status_code == 403
    error = ET.fromstring(r.content)
    assert error.tag == "errors" and error.findtext("error/code") == "403" and error.findtext("error/description")
    assert ET.fromstring(client.get("/open311/v2/requests/nope.xml").content).findtext("error/code") == "404"
    assert client.get("/open311/v2/services.csv").status_code == 404
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
