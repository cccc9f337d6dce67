"""The public catalogue: twelve domains, none empty; item search by domain, life event and text;
domains and life events checked at pack load; every single-department item can be applied for."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tongban.core.packs.loader import PackError, read_pack
from tongban.services.domains import DOMAINS

PACK = Path(__file__).resolve().parents[2] / "packs" / "demo"


def test_every_domain_has_a_real_item_and_no_login_is_needed(client, demo) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/catalog/domains")  # no Authorization header
    assert resp.status_code == 200, resp.text
    domains = resp.json()["items"]
    assert [d["id"] for d in domains] == list(DOMAINS)
    assert [d["name_i18n"]["zh"] for d in domains] == ["婴育", "教育", "就业", "居住", "文化", "体育", "旅游", "医疗",
                                                       "养老", "救助", "交通", "家政"]
    for d in domains:
        assert d["item_count"] == len(d["items"]) >= 1, d["id"]
        # at least one item a single department handles on its own (not only parts of one-things)
        assert any(len({i["department"]}) == 1 for i in d["items"])
    by_id = {d["id"]: d for d in domains}
    assert {o["id"] for o in by_id["assistance"]["onethings"]} == {"onething.assistance", "onething.disability"}
    assert by_id["housing"]["onething_count"] == 1 and by_id["infant"]["onething_count"] == 1
    assert sum(d["item_count"] for d in domains) == len(list((PACK / "items").glob("*.yaml")))


def test_item_search_filters_by_domain_life_event_and_text(client, demo) -> None:  # type: ignore[no-untyped-def]
    elderly = client.get("/api/v1/catalog/items?domain=elderly").json()["items"]
    assert [i["id"] for i in elderly] == ["item.elderly-allowance"]
    assert elderly[0]["legal_basis"].startswith("《中华人民共和国老年人权益保障法》")
    disability = {i["id"] for i in client.get("/api/v1/catalog/items?life_event=disability").json()["items"]}
    assert disability == {"item.disability-card", "item.disability-living-allowance",
                          "item.disability-care-allowance", "item.tekun"}
    both = client.get("/api/v1/catalog/items?domain=assistance&life_event=hardship&q=低保").json()["items"]
    assert {i["id"] for i in both} == {"item.dibao", "item.dibao-edge", "item.utility-relief",
                                       "item.disability-living-allowance"}
    english = client.get("/api/v1/catalog/items?q=DRIVING licence").json()["items"]
    assert [i["id"] for i in english] == ["item.driving-licence-renewal"]
    assert client.get("/api/v1/catalog/items?q=nothing-like-this").json()["items"] == []
    events = client.get("/api/v1/catalog/life-events").json()["items"]
    assert "birth" in {e["id"] for e in events}


@pytest.mark.parametrize(("query", "field"), [("domain=space", "domain"), ("life_event=wedding", "life_event")])
def test_an_unknown_domain_or_life_event_is_refused(client, demo, query, field) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(f"/api/v1/catalog/items?{query}", headers={"Accept-Language": "en"})
    assert resp.status_code == 422
    assert resp.json()["field"] == field and "Unknown" in resp.json()["detail"]


def test_a_pack_with_an_unknown_domain_is_refused_at_load(tmp_path: Path) -> None:
    pack = tmp_path / "demo"
    shutil.copytree(PACK, pack)
    path = pack / "items" / "elderly-allowance.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("domain: elderly", "domain: leisure"), encoding="utf-8")
    with pytest.raises(PackError) as err:
        read_pack(pack)
    assert "elderly-allowance.yaml" in str(err.value) and "domain" in str(err.value)


SINGLE = {
    "item.elderly-allowance": ("officer.mca", {}),
    "item.unemployment-registration": ("officer.hrss", {"last_employer": "宁波某贸易公司"}),
    "item.school-enrolment": ("officer.education", {"child_name": "陈小雨", "child_birth_date": "2019-06-12",
                                                    "household_number": "H330203000102"}),
    "item.driving-licence-renewal": ("officer.traffic", {"driving_licence_number": "330200123456"}),
    "item.domestic-training-subsidy": ("officer.hrss", {"training_certificate_number": "JZ2026-0042"}),
    "item.intangible-heritage": ("officer.culture", {"heritage_project_name": "宁波走书"}),
    "item.sports-instructor": ("officer.culture", {"sports_discipline": "太极拳"}),
    "item.tour-guide-licence": ("officer.culture", {"guide_exam_certificate_number": "DY2026330000123"}),
}


def test_each_domains_single_department_item_is_applied_for_and_decided(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    chen = login("resident.chen")
    for item_id, (officer, extra) in sorted(SINGLE.items()):
        data = {"applicant_name": "陈秀英", "applicant_id_number": "330203198511020285",
                "applicant_phone": "13800000103", **extra}
        resp = client.post("/api/v1/applications", headers={**chen, "Idempotency-Key": f"single-{item_id}"},
                           json={"item_id": item_id, "data": data})
        assert resp.status_code == 201, resp.text
        app = resp.json()
        assert [t["department"] for t in app["tasks"]] == [
            {"officer.mca": "dept.haishu.mca", "officer.hrss": "dept.haishu.hrss",
             "officer.education": "dept.haishu.education", "officer.traffic": "dept.ningbo.traffic",
             "officer.culture": "dept.haishu.culture"}[officer]]
        if item_id == "item.elderly-allowance":  # 受理 at the street first
            task = app["tasks"][0]
            r = client.post(f"/api/v1/workbench/tasks/{task['id']}/decision", headers=login("officer.mca.ximen"),
                            json={"decision": "approve", "version": task["version"]})
            assert r.status_code == 200, r.text
        headers = login(officer)
        for _ in range(3):
            task = client.get(f"/api/v1/applications/{app['id']}", headers=headers).json()["tasks"][0]
            if task["status"] == "approved":
                break
            r = client.post(f"/api/v1/workbench/tasks/{task['id']}/decision", headers=headers,
                            json={"decision": "approve", "version": task["version"]})
            assert r.status_code == 200, (item_id, r.text)
        assert client.get(f"/api/v1/applications/{app['id']}", headers=chen).json()["status"] == "completed", item_id
