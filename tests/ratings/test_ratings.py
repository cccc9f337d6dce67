"""好差评 through the API: one rating per thing (the second is refused, 409), a 差评 opens a
rectification due in working days (across a holiday), the rectification's steps and follow-up, an
upheld appeal leaves the statistics and not the record, and bad inputs write nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.ratings import factories
from tongban.core.audit.models import AuditEvent
from tongban.core.errors import Conflict
from tongban.core.identity import service as identity
from tongban.core.identity.models import Account
from tongban.ratings import service
from tongban.ratings.models import Appeal, Rating, Rectification


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _application(db, **kw) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return factories.completed_application(s, **kw)


def rate(client, headers, subject_id: int, level: int, kind: str = "application", **extra):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/ratings", headers=headers,
                       json={"kind": kind, "subject_id": subject_id, "level": level, **extra})


def test_a_second_rating_of_the_same_application_is_refused(client, login, db) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    app_id = _application(db)
    first = rate(client, zhang, app_id, 5, dimensions={"efficiency": 5, "guide": 4}, tags=["tag.fast"], comment="很快")
    assert first.status_code == 201, first.text
    assert first.json()["department_id"] == "dept.haishu.cdc" and first.json()["rectification_id"] is None
    second = rate(client, zhang, app_id, 1)
    assert second.status_code == 409
    body = second.json()
    assert body["field"] == "subject" and body["type"].endswith("/conflict") and body["detail"]
    assert _count(db, Rating) == 1 and _count(db, Rectification) == 0
    # The unique constraint holds even when the check is passed by (two tabs at once).
    with db.unit_of_work() as s:
        found = service.subject(s, "application", app_id)
        assert found is not None
        account = s.get(Account, factories.account_id(s, "resident.zhang"))
        assert account is not None
        principal = identity.principal_for_account(s, account)
        with pytest.raises(Conflict) as refused:
            service._record(s, found, 4, {}, [], None, channel="online", principal=principal,
                            rater=principal.account_id)
        assert refused.value.field == "subject"
    assert _count(db, Rating) == 1


def test_bad_inputs_are_refused_naming_the_field_and_nothing_is_written(client, login, db) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    app_id = _application(db)
    assert rate(client, zhang, app_id, 0).json()["field"] == "level"
    assert rate(client, zhang, app_id, 6).status_code == 422
    r = rate(client, zhang, app_id, 4, tags=["tag.nonsense"])
    assert r.status_code == 422 and r.json()["field"] == "tags.0"
    r = rate(client, zhang, app_id, 4, comment="坏\u0000字")
    assert r.status_code == 422 and r.json()["field"] == "comment"
    r = rate(client, zhang, app_id, 4, dimensions={"efficiency": 9})
    assert r.status_code == 422
    # Not theirs, not finished, no such thing: one answer, 404.
    assert rate(client, login("resident.li"), app_id, 4).status_code == 404
    open_app = _application(db, status="in_progress")
    assert rate(client, zhang, open_app, 4).status_code == 404
    assert rate(client, zhang, 999999, 4).status_code == 404
    # Staff cannot rate online; on-site only at the counter of a department that handled it.
    assert rate(client, login("officer.cdc"), app_id, 4).status_code == 404
    assert rate(client, login("officer.health"), app_id, 4, channel="onsite").status_code == 403
    assert _count(db, Rating) == 0 and _count(db, Rectification) == 0
    onsite = rate(client, login("officer.cdc"), app_id, 4, channel="onsite")
    assert onsite.status_code == 201 and onsite.json()["channel"] == "onsite"


def test_a_poor_rating_opens_a_rectification_due_in_working_days_across_a_holiday(client, login, db, clock) -> None:  # type: ignore[no-untyped-def]
    clock.set(dt.datetime(2026, 9, 30, 15, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    app_id = _application(db)
    r = rate(client, login("resident.zhang"), app_id, 2, tags=["tag.slow"])
    assert r.status_code == 201, r.text
    rect_id = r.json()["rectification_id"]
    cdc = login("officer.cdc")
    rect = client.get(f"/api/v1/ratings/rectifications/{rect_id}", headers=cdc).json()
    # National Day: 1–7 October are holidays, Saturday 10 October a working day (调休).
    assert rect["opened_on"] == "2026-09-30"
    assert rect["visit_due"] == "2026-10-08"  # 1 working day
    assert rect["reply_due"] == "2026-10-27"  # 15 working days: 8, 9, 10, 12…16, 19…23, 26, 27
    assert rect["status"] == "open"
    # Another department sees nothing of it; a department in the other order is refused.
    assert client.get(f"/api/v1/ratings/rectifications/{rect_id}", headers=login("officer.health")).status_code == 404
    out_of_order = client.post(f"/api/v1/ratings/rectifications/{rect_id}/reply", headers=cdc, json={"text": "已整改"})
    assert out_of_order.status_code == 409 and out_of_order.json()["field"] == "status"
    blank = client.post(f"/api/v1/ratings/rectifications/{rect_id}/visit", headers=cdc, json={"text": "   "})
    assert blank.status_code == 422 and blank.json()["field"] == "text"
    with db.unit_of_work() as s:
        assert s.get(Rectification, rect_id).status == "open"  # type: ignore[union-attr]
    # Overdue: the watch flags the step past its due date, once.
    clock.set(dt.date(2026, 10, 9))
    with db.unit_of_work() as s:
        assert service.flag_overdue(s) == 1
    with db.unit_of_work() as s:
        assert service.flag_overdue(s) == 0
    assert client.get(f"/api/v1/ratings/rectifications/{rect_id}", headers=cdc).json()["overdue"] is True
    for step, text in (("visit", "已电话回访"), ("rectify", "已优化接种预约"), ("reply", "已整改，感谢您的监督")):
        r = client.post(f"/api/v1/ratings/rectifications/{rect_id}/{step}", headers=cdc, json={"text": text})
        assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "replied" and done["working_days"] == 2 and done["overdue"] is False  # 8 and 9 October
    zhang = login("resident.zhang")
    unread = client.get("/api/v1/me/messages", headers=zhang).json()["items"]
    assert any(m.get("link") == f"/ratings/follow-up/{rect_id}" for m in unread)
    assert client.post(f"/api/v1/ratings/follow-ups/{rect_id}", headers=login("resident.li"),
                       json={"level": 5}).status_code == 404
    assert client.post(f"/api/v1/ratings/follow-ups/{rect_id}", headers=zhang, json={"level": 4}).status_code == 200
    again = client.post(f"/api/v1/ratings/follow-ups/{rect_id}", headers=zhang, json={"level": 5})
    assert again.status_code == 409
    with db.unit_of_work() as s:
        assert s.get(Rectification, rect_id).follow_up_level == 4  # type: ignore[union-attr]


def test_an_upheld_appeal_leaves_the_statistics_and_not_the_record(client, login, db) -> None:  # type: ignore[no-untyped-def]
    zhang, li = login("resident.zhang"), login("resident.li")
    good = rate(client, zhang, _application(db), 5).json()
    bad = rate(client, li, _application(db, username="resident.li"), 1, comment="和本事项无关的抱怨").json()
    cdc = login("officer.cdc")
    stats = client.get("/api/v1/ratings/statistics").json()  # public: no sign-in
    cdc_row = next(r for r in stats["rows"] if r["key"] == "dept.haishu.cdc")
    assert (cdc_row["rated"], cdc_row["bad"], cdc_row["good_rate"]) == (2, 1, 0.5)
    # Only the department's officers appeal; the reason is needed; once.
    assert client.post(f"/api/v1/ratings/{bad['id']}/appeal", headers=login("officer.health"),
                       json={"grounds": "unrelated", "reason": "无关"}).status_code == 404
    r = client.post(f"/api/v1/ratings/{bad['id']}/appeal", headers=cdc, json={"grounds": "unrelated", "reason": " "})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    appeal = client.post(f"/api/v1/ratings/{bad['id']}/appeal", headers=cdc,
                         json={"grounds": "unrelated", "reason": "评价内容与本事项无关"})
    assert appeal.status_code == 201, appeal.text
    assert client.post(f"/api/v1/ratings/{bad['id']}/appeal", headers=cdc,
                       json={"grounds": "malicious", "reason": "再次申诉"}).status_code == 409
    appeal_id = appeal.json()["id"]
    # The decider is outside the department and holds the pack's reviewer role.
    assert client.post(f"/api/v1/ratings/appeals/{appeal_id}/decision", headers=login("admin.platform"),
                       json={"uphold": True}).status_code == 403  # has the permission, not the role
    reviewer = login("reviewer.haishu")
    assert [a["id"] for a in client.get("/api/v1/ratings/appeals", headers=reviewer).json()] == [appeal_id]
    r = client.post(f"/api/v1/ratings/appeals/{appeal_id}/decision", headers=reviewer, json={"uphold": True, "note": "属实"})
    assert r.status_code == 200 and r.json()["status"] == "upheld"
    assert client.post(f"/api/v1/ratings/appeals/{appeal_id}/decision", headers=reviewer,
                       json={"uphold": False}).status_code == 409
    stats = client.get("/api/v1/ratings/statistics").json()
    cdc_row = next(r for r in stats["rows"] if r["key"] == "dept.haishu.cdc")
    assert (cdc_row["rated"], cdc_row["bad"], cdc_row["good_rate"]) == (1, 0, 1.0)
    with db.unit_of_work() as s:
        kept = s.get(Rating, bad["id"])
        assert kept is not None and kept.excluded and kept.level == 1 and kept.comment == "和本事项无关的抱怨"
        assert s.get(Rating, good["id"]).excluded is False  # type: ignore[union-attr]
        rect = s.get(Rectification, bad["rectification_id"])
        assert rect is not None and rect.status == "withdrawn"  # no rectification of a malicious 差评
        assert s.scalar(select(Appeal.decided_by).where(Appeal.id == appeal_id)).startswith("account:")  # type: ignore[union-attr]
        actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("rating.%"))))
    assert {"rating.create", "rating.appeal", "rating.appeal_upheld"} <= actions


def test_a_reviewer_of_the_same_department_may_not_decide(client, login, db) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_staff

    with db.unit_of_work() as s:
        make_staff(s, "reviewer.cdc", department_id="dept.haishu.cdc", roles=["officer", "rating_reviewer"],
                   region_code="330203")
    bad = rate(client, login("resident.zhang"), _application(db), 1).json()
    appeal = client.post(f"/api/v1/ratings/{bad['id']}/appeal", headers=login("officer.cdc"),
                         json={"grounds": "malicious", "reason": "恶意差评"}).json()
    from tests.factories import token_for

    own = token_for(client, "reviewer.cdc")
    assert client.get("/api/v1/ratings/appeals", headers=own).json() == []
    r = client.post(f"/api/v1/ratings/appeals/{appeal['id']}/decision", headers=own, json={"uphold": True})
    assert r.status_code == 403
    with db.unit_of_work() as s:
        assert s.get(Rating, bad["id"]).excluded is False  # type: ignore[union-attr]


def test_a_closed_case_is_rated_once_through_the_case_engine_or_the_rating_page(client, login, db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        first, second = factories.closed_case(s), factories.closed_case(s)
    zhang = login("resident.zhang")
    r = client.post(f"/api/v1/cases/{first}/rate", headers=zhang, json={"rating": 2})  # the case engine's own call
    assert r.status_code == 200 and r.json()["rating"] == 2
    assert client.post(f"/api/v1/cases/{first}/rate", headers=zhang, json={"rating": 5}).status_code == 409
    assert rate(client, zhang, first, 5, kind="case").status_code == 409
    r = rate(client, zhang, second, 4, kind="case", dimensions={"efficiency": 4})
    assert r.status_code == 201 and r.json()["item_id"] == "case.food"
    assert client.get(f"/api/v1/cases/{second}", headers=zhang).json()["rating"] == 4  # on the case's timeline
    with db.unit_of_work() as s:
        rows = {r.subject_id: r for r in s.scalars(select(Rating).where(Rating.subject_kind == "case"))}
        assert rows[first].department_id == "dept.haishu.market" and rows[first].channel == "online"
        assert s.scalar(select(func.count()).select_from(Rectification)) == 1  # the 2 of the first


def test_the_overdue_watch_is_an_hourly_job_that_flags_once(client, login, db, clock) -> None:  # type: ignore[no-untyped-def]
    from tongban.core import slices
    from tongban.core.jobs import registry

    slices.load_jobs()
    assert any(s.kind == "ratings.overdue" and s.interval_seconds == 3600 for s in registry.schedules())
    run = registry.get_handler("ratings.overdue")
    assert run is not None
    rated = rate(client, login("resident.zhang"), _application(db), 1).json()
    clock.advance(dt.timedelta(days=10))
    for _ in range(2):
        with db.unit_of_work() as s:
            run(s, {})
    with db.unit_of_work() as s:
        rect = s.get(Rectification, rated["rectification_id"])
        assert rect is not None and rect.overdue_at is not None
        flagged = s.scalars(select(AuditEvent).where(AuditEvent.action == "rectification.overdue")).all()
    assert len(flagged) == 1
