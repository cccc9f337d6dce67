"""好差评 pages and task ratings without a browser: a one-thing the pack rates task by task offers
each department's part; a task of any other application is not ratable; the resident's page
refuses a second rating and another resident's thing; the public page needs no sign-in."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import web_login
from tests.ratings import factories
from tongban.ratings.models import Rating

BIRTH = (("item.birth-certificate", "dept.haishu.health"), ("item.vaccination", "dept.haishu.cdc"))


def _csrf(page: str) -> str:
    marker = 'name="csrf_token" value="'
    return page[page.index(marker) + len(marker):].split('"', 1)[0]


def test_a_onething_rated_task_by_task_offers_each_departments_part(client, login, db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        birth = factories.completed_application(s, onething_id="onething.birth", tasks=BIRTH)
        single = factories.completed_application(s)
    zhang = login("resident.zhang")
    apps = client.get("/api/v1/ratings/mine", headers=zhang)
    assert apps.status_code == 200 and apps.json() == []
    from tongban.services.models import Task

    with db.unit_of_work() as s:
        health_task, cdc_task = s.scalars(select(Task.id).where(Task.application_id == birth).order_by(Task.id)).all()
        single_task = s.scalar(select(Task.id).where(Task.application_id == single))
    r = client.post("/api/v1/ratings", headers=zhang, json={"kind": "task", "subject_id": health_task, "level": 2})
    assert r.status_code == 201 and r.json()["department_id"] == "dept.haishu.health"
    assert r.json()["rectification_id"] is not None  # the health bureau answers for its own part
    assert client.post("/api/v1/ratings", headers=zhang,
                       json={"kind": "task", "subject_id": single_task, "level": 5}).status_code == 404
    # The application's own rating is a separate thing; its page lists the parts.
    assert client.post("/api/v1/ratings", headers=zhang,
                       json={"kind": "application", "subject_id": birth, "level": 5}).status_code == 201
    web_login(client, "resident.zhang", "tongban-demo")
    page = client.get(f"/ratings/rate/application/{birth}")
    assert page.status_code == 200
    assert f'href="/ratings/rate/task/{cdc_task}"' in page.text and f"/ratings/rate/task/{health_task}" not in page.text


def test_the_rating_form_rates_once_and_refuses_bad_input_writing_nothing(client, login, db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        app_id = factories.completed_application(s)
    login("resident.zhang")  # the demo is loaded
    web_login(client, "resident.li", "tongban-demo")
    assert client.get(f"/ratings/rate/application/{app_id}").status_code == 404  # not hers
    web_login(client, "resident.zhang", "tongban-demo")
    page = client.get(f"/ratings/rate/application/{app_id}")
    assert page.status_code == 200 and 'id="rate-form"' in page.text
    token = _csrf(page.text)
    bad = client.post(f"/ratings/rate/application/{app_id}", data={"csrf_token": token, "level": "9"})
    assert bad.status_code == 422 and 'id="rate-form"' in bad.text
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Rating)) == 0
    ok = client.post(f"/ratings/rate/application/{app_id}", data={"csrf_token": token, "level": "5", "tags": "tag.fast",
                                                                  "comment": "很好"}, follow_redirects=False)
    assert ok.status_code == 303
    again = client.post(f"/ratings/rate/application/{app_id}", data={"csrf_token": token, "level": "1"})
    assert again.status_code == 409 and 'id="rated"' in again.text
    with db.unit_of_work() as s:
        assert [r.level for r in s.scalars(select(Rating))] == [5]


def test_the_public_statistics_page_needs_no_sign_in_and_checks_its_period(client, demo) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/ratings/stats").status_code == 200
    assert client.get("/ratings/stats?day_from=2026-12-10&day_to=2026-12-01").status_code == 422
    assert client.get("/api/v1/ratings/statistics?day_from=2026-12-10&day_to=2026-12-01").status_code == 422
    assert client.get("/api/v1/ratings/statistics?by=nonsense").status_code == 422
    far = client.get("/api/v1/ratings/statistics?day_from=0001-01-01&day_to=9999-12-31")
    assert far.status_code == 422 and far.json()["field"] == "day_from"
    assert client.get("/ratings/stats?day_from=0001-01-01").status_code == 422
