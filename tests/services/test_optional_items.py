"""A one-thing with optional items (困难群众救助: 低保 or 特困, 临时救助, the linked subsidies):
only the chosen items make department tasks, the form asks only their fields and materials,
the savings are the chosen items'; a choice the pack does not allow is refused, naming `items`;
through the API, drafts and the portal's form page, and the pack checks of `optional` and
`choose_one`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.services.test_more_onethings import CHEN, decide, run_notice_job, statuses  # noqa: F401
from tests.services.test_pages import _csrf, _hidden, _post, as_user
from tongban.core.packs.loader import PackError, read_pack
from tongban.services import onething
from tongban.services.models import Application

ASSIST = "onething.assistance"
TEKUN = {k: CHEN[k] for k in ("applicant_name", "applicant_id_number", "applicant_phone", "household_number",
                              "hardship_reason", "emergency_description")}
DEMO = Path(__file__).resolve().parents[2] / "packs" / "demo"


def post(client, headers, key: str, **body: Any):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/applications", headers={**headers, "Idempotency-Key": key},
                       json={"onething_id": ASSIST, **body})


def test_only_the_chosen_items_make_tasks_and_an_alternative_prerequisite_is_waited_for(  # type: ignore[no-untyped-def]
        client, login, demo, run_notice_job) -> None:  # noqa: F811
    chen = login("resident.chen")
    chosen = ["item.tekun", "item.temporary-relief", "item.medical-assistance"]
    r = post(client, chen, "tekun-1", items=list(reversed(chosen)), data=TEKUN)
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["items"] == chosen  # in the one-thing's order
    assert statuses(client, chen, app["id"]) == {"item.tekun": "ready", "item.temporary-relief": "ready",
                                                 "item.medical-assistance": "blocked"}
    medical = next(t for t in app["tasks"] if t["item_id"] == "item.medical-assistance")
    assert medical["department"] == "dept.haishu.medinsure"
    # 特困: street 受理 and 审核, district 审批, then the 公示; medical assistance waits for it.
    decide(client, login("officer.mca.ximen"), app["id"], "item.tekun")
    decide(client, login("officer.mca.ximen"), app["id"], "item.tekun")
    decide(client, login("officer.mca"), app["id"], "item.tekun")
    assert statuses(client, chen, app["id"])["item.tekun"] == "public_notice"
    run_notice_job(8)
    assert statuses(client, chen, app["id"]) == {"item.tekun": "approved", "item.temporary-relief": "ready",
                                                 "item.medical-assistance": "ready"}


def test_fields_of_unchosen_items_are_not_asked(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    chen = login("resident.chen")
    alone = {k: v for k, v in TEKUN.items() if k != "emergency_description"}  # that one is 临时救助's
    r = post(client, chen, "tekun-2", items=["item.tekun"], data={**alone, "water_account_number": "SW1"})
    assert r.status_code == 422 and r.json()["field"] == "data.water_account_number", r.text
    # household_size is the dibao's: 特困 alone does not need it.
    ok = post(client, chen, "tekun-3", items=["item.tekun"], data=alone)
    assert ok.status_code == 201, ok.text
    assert [t["item_id"] for t in ok.json()["tasks"]] == ["item.tekun"]
    form = client.get(f"/api/v1/onethings/{ASSIST}/form", params={"items": ["item.tekun", "item.medical-assistance"]},
                      headers=chen).json()
    assert form["items"] == ["item.tekun", "item.medical-assistance"]
    assert set(form["schema"]["properties"]) == {"applicant_name", "applicant_id_number", "applicant_phone",
                                                 "household_number", "hardship_reason"}
    # tekun 5 fields / 2 materials / 2 visits / 20 days; medical assistance 4/2/1/3 (its dibao
    # certificate is not issued inside now, so it is asked). Elements 5, materials 3, chain 23.
    assert {k: (v["separately"], v["onething"]) for k, v in form["savings"].items()} == {
        "forms": (2, 1), "fields": (9, 5), "materials": (4, 3), "visits": (3, 1), "days": (23, 23)}
    assert {m["id"] for m in form["materials"]} == {"mat.assistance-application", "mat.household-register",
                                                    "mat.dibao-proof"}
    default = client.get(f"/api/v1/onethings/{ASSIST}/form", headers=chen).json()
    assert default["items"] == ["item.dibao", "item.temporary-relief", "item.utility-relief",
                                "item.medical-assistance"]


@pytest.mark.parametrize(("items", "message"), [
    (["item.dibao", "item.tekun"], "Choose only one of item.dibao / item.tekun"),
    (["item.tekun", "item.utility-relief"], "item.utility-relief needs item.dibao"),
    (["item.medical-assistance"], "item.medical-assistance needs item.dibao / item.tekun"),
    ([], "Choose at least one item"),
    (["item.vaccination"], "item.vaccination is not one of this one-thing's items"),
])
def test_a_choice_the_pack_does_not_allow_is_refused_naming_items(client, login, demo, items, message) -> None:  # type: ignore[no-untyped-def]
    r = post(client, {**login("resident.chen"), "Accept-Language": "en"}, "bad", items=items, data=TEKUN)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "items" and message in r.json()["detail"]
    with demo.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Application)) == 0


def test_a_choice_on_an_item_or_a_onething_without_choices_is_checked(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    chen = login("resident.chen")
    r = client.post("/api/v1/applications", headers={**chen, "Idempotency-Key": "i"},
                    json={"item_id": "item.tekun", "items": ["item.tekun"], "data": TEKUN})
    assert r.status_code == 422 and r.json()["field"] == "items"
    # the birth one-thing has no optional items: leaving one out is refused
    r = client.post("/api/v1/applications", headers={**login("resident.zhang"), "Idempotency-Key": "b"},
                    json={"onething_id": "onething.birth", "items": ["item.vaccination"], "data": {}})
    assert r.status_code == 422 and r.json()["field"] == "items"


def test_a_draft_keeps_its_choice_until_it_is_submitted(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    chen = login("resident.chen")
    r = post(client, chen, "d", items=["item.temporary-relief"], draft=True, data={"applicant_name": "陈秀英"})
    assert r.status_code == 201, r.text
    app_id = r.json()["id"]
    refused = client.put(f"/api/v1/applications/{app_id}", headers=chen, json={"data": {"household_size": 2}})
    assert refused.status_code == 422 and refused.json()["field"] == "data.household_size"
    data = {k: CHEN[k] for k in ("applicant_name", "applicant_id_number", "applicant_phone", "household_number",
                                 "emergency_description")}
    assert client.put(f"/api/v1/applications/{app_id}", headers=chen, json={"data": data}).status_code == 200
    sent = client.post(f"/api/v1/applications/{app_id}/submit", headers={**chen, "Idempotency-Key": "ds"})
    assert sent.status_code == 201, sent.text
    assert [t["item_id"] for t in sent.json()["tasks"]] == ["item.temporary-relief"]


def test_the_portal_form_lets_the_resident_choose(client, demo) -> None:  # type: ignore[no-untyped-def]
    as_user(client, "resident.chen")
    page = client.get(f"/portal/apply/{ASSIST}/form")
    assert page.status_code == 200
    assert 'type="radio" name="items" value="item.tekun"' in page.text
    assert 'name="water_account_number"' in page.text  # the default choice includes 水电气减免
    chosen = client.get(f"/portal/apply/{ASSIST}/form",
                        params={"items": ["item.tekun", "item.temporary-relief", ""]})
    assert chosen.status_code == 200
    assert 'name="water_account_number"' not in chosen.text and 'name="household_size"' not in chosen.text
    assert 'name="emergency_description"' in chosen.text
    data = {**TEKUN, "csrf_token": _csrf(chosen.text), "idempotency_key": _hidden(chosen.text, "idempotency_key"),
            "items": re.findall(r'<input type="hidden" name="items" value="([^"]+)">', chosen.text)}
    assert data["items"] == ["item.tekun", "item.temporary-relief"]
    sent = _post(client, f"/portal/apply/{ASSIST}/form", data=data)
    assert sent.status_code == 303, sent.text
    with demo.unit_of_work() as s:
        app = s.scalars(select(Application)).one()
        assert app.items == ["item.tekun", "item.temporary-relief"]
    bad = client.get(f"/portal/apply/{ASSIST}/form", params={"items": ["item.dibao", "item.tekun"]})
    assert bad.status_code == 422 and 'href="#items"' in bad.text
    none = client.get(f"/portal/apply/{ASSIST}/form", params={"items": [""]})  # "None of these", no box ticked
    assert none.status_code == 422 and "请至少选择一个事项" in none.text
    bad_post = _post(client, f"/portal/apply/{ASSIST}/form",
                     data={**data, "items": ["item.tekun", "item.utility-relief"], "idempotency_key": "other"})
    assert bad_post.status_code == 422 and 'href="#items"' in bad_post.text


def test_resolve_choice_keeps_prerequisites_among_the_chosen() -> None:
    definition = {"items": ["a", "b", "c", "d"], "optional": ["b", "c", "d"], "choose_one": [["b", "c"]],
                  "requires": {"d": ["b", "c"], "a": []}}
    assert onething.resolve_choice(definition, None) == (["a", "b", "d"], {"d": ["b"]})
    assert onething.resolve_choice(definition, ["a", "c", "d"]) == (["a", "c", "d"], {"d": ["c"]})
    assert onething.resolve_choice(definition, ["a"]) == (["a"], {})
    with pytest.raises(Exception, match="always part"):
        onething.resolve_choice(definition, ["b"])


# --- pack checks ------------------------------------------------------------------------------------


def _problems(tmp_path: Path, old: str, new: str) -> str:
    root = tmp_path / "pack"
    shutil.copytree(DEMO, root)
    f = root / "onethings" / "assistance.yaml"
    text = f.read_text(encoding="utf-8")
    assert old in text
    f.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(PackError) as exc:
        read_pack(root)
    return str(exc.value)


def test_choose_one_must_name_the_onethings_own_items(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "- [item.dibao, item.tekun]", "- [item.dibao, item.vaccination]")
    assert "onethings/assistance.yaml:" in problems and "'item.vaccination' is not one of this one-thing's items" \
        in problems


def test_a_choose_one_group_is_all_optional_or_none(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "optional: [item.dibao, item.tekun, ", "optional: [item.dibao, ")
    assert "either every item of a choose_one group is optional or none is" in problems


def test_an_unknown_optional_item_is_refused(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "item.medical-assistance]\n  choose_one",
                         "item.medical-assistance, item.lost]\n  choose_one")
    assert "'item.lost' is not one of this one-thing's items" in problems


def test_a_default_choice_that_is_not_valid_is_refused(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "item.medical-assistance: [item.dibao, item.tekun]",
                         "item.medical-assistance: [item.tekun]")
    assert "the default choice" in problems and "item.medical-assistance needs item.tekun" in problems
