"""The services, cases and codes parts of the service history on a small city: what each writes
keeps the engine's invariants, the same seed writes the same history, and the parts run in order
through the extension point."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.cockpit import figures_city as fc
from tongban.appointments.models import Booking, Slot
from tongban.cases.models import Case, CaseEvent
from tongban.codes import service as codes
from tongban.codes.demo_data import KINDS
from tongban.codes.models import IssuedCode
from tongban.core import slices, workdays
from tongban.core.clock import local_date
from tongban.core.indicators import HISTORY
from tongban.core.keys import Keyring
from tongban.ratings.models import Appeal, Rating, Rectification
from tongban.services.models import Application, ApplicationEvent, ServiceItem, Task

PERSONS = 1000


@pytest.fixture()
def history(db, tmp_path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    fc.load_city(db, persons=PERSONS)
    return fc.run_history(db, tmp_path / "keys", persons=PERSONS, rate=10.0)


def test_the_parts_are_contributed_in_order() -> None:
    parts = sorted(slices.contributed(HISTORY), key=lambda p: p.order)
    mine = [(p.key, p.order) for p in parts if p.key.split(".")[0] in ("services", "cases", "codes")]
    assert mine == [("services.applications", 10), ("cases.hotline", 20), ("codes.issued", 30)]


def test_applications_keep_the_engines_invariants(db, history) -> None:  # type: ignore[no-untyped-def]
    assert history["written"]["services.applications"] > 0
    with db.unit_of_work() as s:
        cal = workdays.calendar(s)
        promised = {i.id: int(i.definition["promised_days"]) for i in s.scalars(select(ServiceItem))}
        apps = {a.id: a for a in s.scalars(select(Application))}
        tasks: dict[int, list[Task]] = {}
        for t in s.scalars(select(Task)):
            tasks.setdefault(t.application_id, []).append(t)
        assert apps and set(tasks) == set(apps)
        end = fc.at(fc.END + dt.timedelta(days=1), 0)
        statuses = set()
        late = on_time = 0
        for app in apps.values():
            assert app.submitted_at is not None and fc.at(fc.START, 0) <= app.submitted_at < end
            by_item = {t.item_id: t for t in tasks[app.id]}
            assert len(by_item) == len(tasks[app.id])
            for t in tasks[app.id]:
                if t.status == "blocked":
                    assert t.clock_started_on is None and t.decided_at is None
                    assert any(by_item[r].status != "approved" for r in t.requires)
                    continue
                if t.status == "cancelled":
                    assert any(by_item[r].status in ("rejected", "cancelled") for r in t.requires)
                    continue
                # A started clock: promised due date in working days from its start.
                assert t.clock_started_on is not None and t.due_date == cal.add_working_days(
                    t.clock_started_on, promised[t.item_id])
                assert all(by_item[r].status == "approved" for r in t.requires)
                if t.status in ("approved", "rejected"):
                    assert t.decided_at is not None and app.submitted_at < t.decided_at < end
                    assert local_date(t.decided_at) >= t.clock_started_on
                    for r in t.requires:
                        assert by_item[r].decided_at is not None and by_item[r].decided_at <= t.decided_at
                    if local_date(t.decided_at) <= t.due_date:
                        on_time += 1
                    else:
                        late += 1
                else:
                    assert t.status == "ready" and t.decided_at is None
            finished = all(t.status in ("approved", "rejected", "cancelled") for t in tasks[app.id])
            approved = sum(t.status == "approved" for t in tasks[app.id])
            if finished:
                want = "completed" if approved == len(tasks[app.id]) else "partly_completed" if approved else "rejected"
                assert app.status == want
                assert app.finished_at == max(t.decided_at for t in tasks[app.id] if t.decided_at)
            else:
                assert app.status in ("submitted", "in_progress") and app.finished_at is None
            statuses.add(app.status)
        assert {"completed", "in_progress"} <= statuses
        assert late and on_time > late  # most on time, some late
        completed = sorted(a.id for a in apps.values() if a.status == "completed")
        assert sorted(history["notes"]["services.completed"]) == completed
        assert s.scalar(select(func.count()).select_from(ApplicationEvent).where(
            ApplicationEvent.kind == "submitted")) == len(apps)
        assert any(a.onething_id for a in apps.values()) and any(a.item_id for a in apps.values())


def test_cases_are_dispatched_answered_closed_late_and_merged_as_the_engine_does(db, history) -> None:  # type: ignore[no-untyped-def]
    from tongban.cases import engine

    assert history["written"]["cases.hotline"] > 0
    with db.unit_of_work() as s:
        cal = workdays.calendar(s)
        cases = {c.id: c for c in s.scalars(select(Case))}
        end = fc.at(fc.END + dt.timedelta(days=1), 0)
        seen = set()
        for c in cases.values():
            seen.add(c.status)
            cat = engine.category(s, c.category_id)
            assert c.clock_started_on == local_date(c.created_at)
            assert c.due_date == cal.add_working_days(c.clock_started_on, engine.time_limit(s, c.type, cat))
            assert (c.type == "grid") == (cat.kind == "grid")
            if c.status == "merged":
                master = cases[c.merged_into_id or 0]
                assert master.created_at < c.created_at and master.category_id == c.category_id
                assert master.region_code[:6] == c.region_code[:6]
                assert master.status != "merged" and master.department_id == c.department_id
                continue
            assert c.merged_into_id is None
            rule = engine.route(s, c.category_id, c.region_code)
            assert c.department_id == (rule.department_id if rule else None)
            if c.overdue_at is not None:
                assert local_date(c.overdue_at) > c.due_date and c.overdue_at < end
                assert c.replied_at is None or c.replied_at > c.overdue_at
            elif c.replied_at is not None:
                assert local_date(c.replied_at) <= c.due_date + dt.timedelta(days=1)
            if c.status == "closed":
                assert c.replied_at is not None and c.closed_at is not None and c.replied_at < c.closed_at < end
        assert {"closed", "merged"} <= seen
        assert any(c.overdue_at for c in cases.values())
        kinds = set(s.scalars(select(CaseEvent.kind).distinct()))
        assert {"received", "dispatched", "accepted", "replied", "closed", "merged", "merged_in"} <= kinds


def test_codes_are_signed_at_their_issuing_time_and_some_revoked(db, history, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert history["written"]["codes.issued"] > 0
    keyring = Keyring(tmp_path / "keys", demo=True)
    with db.unit_of_work() as s:
        rows = list(s.scalars(select(IssuedCode).order_by(IssuedCode.id)))
        assert rows
        start, end = fc.at(fc.START, 0).timestamp(), fc.at(fc.END + dt.timedelta(days=1), 0).timestamp()
        assert all(start <= r.issued_epoch < end for r in rows)
        revoked = [r for r in rows if r.revoked_at is not None]
        assert revoked and len(revoked) < len(rows) // 5
        assert all(r.revoked_at.timestamp() > r.issued_epoch for r in revoked)
        assert codes.scan(s, keyring=keyring, code=codes.code_string(rows[0]))["state"] in ("valid", "revoked")
        assert codes.scan(s, keyring=keyring, code=codes.code_string(revoked[0]))["state"] == "revoked"
        assert len({r.type_id for r in rows}) == len(codes.code_types(s))


def _summary(db) -> list[Any]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return [
            s.execute(select(Application.region_code, Application.onething_id, Application.item_id, Application.status,
                             Application.submitted_at, Application.finished_at).order_by(Application.id)).all(),
            s.execute(select(Task.item_id, Task.status, Task.due_date, Task.decided_at).order_by(Task.id)).all(),
            s.execute(select(Case.type, Case.category_id, Case.status, Case.created_at, Case.overdue_at,
                             Case.closed_at).order_by(Case.id)).all(),
            s.execute(select(IssuedCode.type_id, IssuedCode.subject_id, IssuedCode.issued_epoch,
                             IssuedCode.revoked_at).order_by(IssuedCode.id)).all(),
        ]


def _clear(db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        # every part's rows, the later parts' first (ratings rate applications and cases)
        for model in (Appeal, Rectification, Rating, Booking, Slot,
                      ApplicationEvent, Task, Application, CaseEvent, IssuedCode, *(m for m, _ in KINDS.values())):
            s.query(model).delete()
        s.query(Case).update({Case.merged_into_id: None})
        s.query(Case).delete()


def test_the_same_seed_writes_the_same_history(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fc.load_city(db, persons=600)
    first = fc.run_history(db, tmp_path / "keys", persons=600, seed=5)
    before = _summary(db)
    _clear(db)
    again = fc.run_history(db, tmp_path / "keys", persons=600, seed=5)
    assert again["written"] == first["written"] and _summary(db) == before
    _clear(db)
    fc.run_history(db, tmp_path / "keys", persons=600, seed=6)
    assert _summary(db)[0] != before[0]


def test_an_empty_city_gets_no_history(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tongban.core.packs.loader import load_pack

    with db.unit_of_work() as s:
        load_pack(s, fc.PACK)
    written = fc.run_history(db, tmp_path / "keys", persons=0)["written"]
    assert written["services.applications"] == 0 and written["cases.hotline"] == 0
