"""审批分离: a step `separate_from` an earlier one is decided by another officer than the one who
approved that earlier step; the pack is checked at load; the engine refuses the same officer
with a translated problem, and the task page says so before and after."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.services.test_birth_flow import decide_next
from tests.services.test_pages import BIRTH, _csrf, _hidden, _post, as_user, submit_birth
from tongban.core.packs.loader import PackError, read_pack

PACK = Path(__file__).resolve().parents[2] / "packs" / "demo"
HUKOU = "packs/demo/items/household-birth.yaml"


def _pack_with(tmp_path: Path, old: str, new: str) -> Path:
    pack = tmp_path / "demo"
    shutil.copytree(PACK, pack)
    path = pack / "items" / "household-birth.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return pack


@pytest.mark.parametrize("bad", ["separate_from: approve", "separate_from: nowhere", "separate_from: 12"])
def test_a_separation_must_name_an_earlier_step_of_the_item(tmp_path: Path, bad: str) -> None:
    pack = _pack_with(tmp_path, "separate_from: accept", bad)
    with pytest.raises(PackError) as err:
        read_pack(pack)
    assert "household-birth.yaml" in str(err.value) and "separate_from" in str(err.value)


def test_a_step_listed_twice_is_refused(tmp_path: Path) -> None:
    pack = _pack_with(tmp_path, "{id: approve, title: {zh: 审批", "{id: accept, title: {zh: 审批")
    with pytest.raises(PackError) as err:
        read_pack(pack)
    assert "listed twice" in str(err.value)


def test_the_demo_pack_separates_the_hukou_steps() -> None:
    pack = read_pack(PACK)
    item = pack.get("item", "item.household-birth")
    assert [s.separate_from for s in item.steps] == [None, "accept"]


def _to_police(client, login) -> int:  # type: ignore[no-untyped-def]
    app = submit_birth(client, login)
    decide_next(client, login("officer.health"), app["id"])
    decide_next(client, login("officer.cdc"), app["id"])
    return int(app["id"])


def _police_task(client, headers, app_id: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    items = client.get("/api/v1/workbench/tasks?status=ready", headers=headers).json()["items"]
    return next(t for t in items if t["application_id"] == app_id)


def test_the_officer_who_accepted_may_not_approve_return_or_reject(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app_id = _to_police(client, login)
    police = login("officer.police")
    assert decide_next(client, police, app_id)["status"] == "claimed"  # 受理
    task = _police_task(client, police, app_id)
    for decision, reason in (("approve", None), ("return", "请补充材料"), ("reject", "不符合条件")):
        body = {"decision": decision, "version": task["version"], **({"reason": reason} if reason else {})}
        r = client.post(f"/api/v1/workbench/tasks/{task['id']}/decision", json=body,
                        headers={**police, "Accept-Language": "zh-CN"})
        assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json"), r.text
        assert r.json()["field"] == "decision" and "审批分离" in r.json()["detail"], r.text
        assert "另一" in r.json()["detail"], r.text  # translated, not the English msgid
    # Nothing moved: the same version is still waiting, and another officer decides it.
    assert _police_task(client, police, app_id)["version"] == task["version"]
    done = decide_next(client, login("officer.police2"), app_id)
    assert done["status"] == "approved"


def test_an_officer_who_did_not_decide_the_earlier_step_is_not_held(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    """The rule looks at who approved the named step: officer.police2 accepting lets officer.police approve."""
    app_id = _to_police(client, login)
    assert decide_next(client, login("officer.police2"), app_id)["status"] == "claimed"
    assert decide_next(client, login("officer.police"), app_id)["status"] == "approved"


def test_the_task_page_warns_and_shows_the_refusal(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    app_id = _to_police(client, login)
    decide_next(client, login("officer.police"), app_id)
    task = _police_task(client, login("officer.police"), app_id)
    as_user(client, "officer.police")
    page = client.get(f"/workbench/tasks/{task['id']}")
    assert 'id="separation-note"' in page.text
    r = _post(client, f"/workbench/tasks/{task['id']}/decision", data={
        "csrf_token": _csrf(page.text), "version": _hidden(page.text, "version"), "decision": "approve"},
        headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 409 and 'id="error-summary"' in r.text and "审批分离" in r.text
    as_user(client, "officer.police2")
    assert 'id="separation-note"' not in client.get(f"/workbench/tasks/{task['id']}").text
    assert BIRTH  # the one-thing the application is for
