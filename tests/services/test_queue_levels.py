"""The ready queue lists only the steps an officer may decide: a district officer does not see
the street's 受理/审核, the street's officer does not see the district's 审批; the department
administrator (who reassigns) sees them all. The API queue and the workbench page agree."""

from __future__ import annotations

from tests.services.test_more_onethings import CHEN, apply, decide
from tests.services.test_pages import as_user


def api_queue(client, headers) -> dict[int, str]:  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/workbench/tasks", headers=headers)
    assert resp.status_code == 200, resp.text
    return {t["id"]: f"{t['item_id']}:{t['step']}" for t in resp.json()["items"]}


def page_queue(client, username: str) -> str:  # type: ignore[no-untyped-def]
    as_user(client, username)
    resp = client.get("/workbench/tasks")
    assert resp.status_code == 200, resp.text
    client.cookies.clear()
    return str(resp.text)


def dibao_task(client, headers, app_id: int) -> int:  # type: ignore[no-untyped-def]
    app = client.get(f"/api/v1/applications/{app_id}", headers=headers).json()
    return int(next(t["id"] for t in app["tasks"] if t["item_id"] == "item.dibao"))


def test_each_level_queues_only_the_steps_it_decides(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    chen = login("resident.chen")
    app = apply(client, chen, "onething.assistance", CHEN, "queue-levels-1")
    task_id = dibao_task(client, chen, app["id"])
    street, district = login("officer.mca.ximen"), login("officer.mca")

    # 受理 is the street's: in the street officer's queue, not in the district officer's.
    assert api_queue(client, street).get(task_id) == "item.dibao:accept"
    assert task_id not in api_queue(client, district)
    assert f'href="/workbench/tasks/{task_id}"' in page_queue(client, "officer.mca.ximen")
    assert f'href="/workbench/tasks/{task_id}"' not in page_queue(client, "officer.mca")

    decide(client, street, app["id"], "item.dibao")  # 受理
    decide(client, street, app["id"], "item.dibao")  # 审核
    # 审批 is the district's: now the other way round.
    assert task_id not in api_queue(client, street)
    assert api_queue(client, district).get(task_id) == "item.dibao:approve"
    assert f'href="/workbench/tasks/{task_id}"' in page_queue(client, "officer.mca")
    assert f'href="/workbench/tasks/{task_id}"' not in page_queue(client, "officer.mca.ximen")

    # The department administrator reassigns, so sees the whole department's queue.
    assert f'href="/workbench/tasks/{task_id}"' in page_queue(client, "admin.mca")
