"""Every indicator the existing slices publish equals its straight check (an independent count
from the live tables, `tests/cockpit/straight/`) on a small city with a generated history — over
the whole period and over single days — and edge cases: no data at all, a day boundary at
Shanghai midnight, a task decided exactly on its due day."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from typing import Any

import pytest
from sqlalchemy import insert, select

from tests.cockpit import figures_city as fc
from tests.cockpit import straight
from tongban.core import slices
from tongban.core.indicators import INDICATORS, Indicator

SLICES = ("services", "cases", "datahub", "screening", "places", "codes", "governance", "registry")


def published() -> dict[str, Indicator]:
    out: dict[str, Indicator] = {}
    for target in slices.contributed(INDICATORS):
        for ind in target if isinstance(target, tuple) else (target,):
            out[ind.key] = ind
    return {k: v for k, v in out.items() if k.split(".")[0] in SLICES}


def checks() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mod in pkgutil.iter_modules(straight.__path__):
        out |= getattr(importlib.import_module(f"{straight.__name__}.{mod.name}"), "STRAIGHT", {})
    return out


def computed(ind: Indicator, session: Any, day_from: dt.date, day_to: dt.date) -> dict[Any, dict[str, float]]:
    got: dict[Any, dict[str, float]] = {}
    for c in ind.compute(session, day_from=day_from, day_to=day_to):
        key = (c.day, c.region, c.key)
        assert key not in got, f"{ind.key}: two cells for {key}"
        assert set(c.values) == set(ind.measures), f"{ind.key}: a cell without every measure"
        assert len(c.key) == len(ind.dimensions)
        if ind.kind == "stock":
            assert c.day == day_to
        got[key] = dict(c.values)
    return got


def assert_equal(ind: Indicator, got: dict[Any, Any], want: dict[Any, Any]) -> None:
    assert set(got) == set(want), (f"{ind.key}: cells only computed {sorted(set(got) - set(want))[:3]}, "
                                   f"only straight {sorted(set(want) - set(got))[:3]}")
    for key, values in want.items():
        assert got[key] == pytest.approx(values), f"{ind.key} {key}"


def test_every_slice_indicator_has_a_straight_check() -> None:
    missing = set(published()) - set(checks())
    assert not missing
    assert {k.split(".")[0] for k in published()} == set(SLICES)


@pytest.fixture()
def city(db, tmp_path):  # type: ignore[no-untyped-def]
    fc.load_city(db, persons=1200)
    fc.run_history(db, tmp_path / "keys", persons=1200)
    fc.other_rows(db)
    return db


def test_each_indicator_equals_its_straight_check_on_a_generated_history(city) -> None:  # type: ignore[no-untyped-def]
    straight_checks = checks()
    day = fc.START + dt.timedelta(days=9)
    with city.unit_of_work() as s:
        for key, ind in sorted(published().items()):
            whole = computed(ind, s, fc.START, fc.END)
            assert whole, f"{key}: no cells on the generated history, nothing was compared"
            assert_equal(ind, whole, straight_checks[key](s, day_from=fc.START, day_to=fc.END))
            # One day, and a period ending inside the month: the day filter and the stocks' "as of".
            for lo, hi in ((day, day), (fc.START + dt.timedelta(days=3), day)):
                assert_equal(ind, computed(ind, s, lo, hi), straight_checks[key](s, day_from=lo, day_to=hi))


def test_no_data_gives_no_cells(db) -> None:  # type: ignore[no-untyped-def]
    straight_checks = checks()
    with db.unit_of_work() as s:
        for key, ind in published().items():
            assert computed(ind, s, fc.START, fc.END) == {}, key
            assert straight_checks[key](s, day_from=fc.START, day_to=fc.END) == {}, key


@pytest.fixture()
def pack(db):  # type: ignore[no-untyped-def]
    from tongban.core.packs.loader import load_pack

    with db.unit_of_work() as s:
        load_pack(s, fc.PACK)
    return db


def _application(s: Any, submitted: dt.datetime, **extra: Any) -> int:
    from tongban.services.models import Application

    values = dict(applicant_account_id=None, applicant_person_id=None, filed_by_account_id=None, filing="self",
                  onething_id=None, item_id="item.dibao", status="submitted", data={}, region_code="330203001001",
                  idempotency_key=f"edge:{submitted.isoformat()}", request_hash="x", version=1,
                  created_at=submitted, submitted_at=submitted) | extra
    return int(s.scalar(insert(Application).returning(Application.id), values))


def test_an_application_a_second_before_shanghai_midnight_counts_on_that_day(pack) -> None:  # type: ignore[no-untyped-def]
    ind = published()["services.applications"]
    day = dt.date(2026, 3, 10)
    with pack.unit_of_work() as s:
        _application(s, fc.at(day + dt.timedelta(days=1), 0) - dt.timedelta(seconds=1))
        _application(s, fc.at(day + dt.timedelta(days=1), 0))  # 16:00 UTC: the next Shanghai day
    with pack.unit_of_work() as s:
        on_day = computed(ind, s, day, day)
        next_day = computed(ind, s, day + dt.timedelta(days=1), day + dt.timedelta(days=1))
        assert [v["applications"] for v in on_day.values()] == [1.0]
        assert [v["applications"] for v in next_day.values()] == [1.0]
        assert list(on_day)[0][0] == day and list(next_day)[0][0] == day + dt.timedelta(days=1)


def test_a_task_decided_on_its_due_day_is_on_time_and_a_day_later_is_late(pack) -> None:  # type: ignore[no-untyped-def]
    from tongban.core import workdays
    from tongban.services.models import ServiceItem, Task

    on_time, decided = published()["services.on_time"], dt.date(2026, 3, 10)  # a Tuesday
    with pack.unit_of_work() as s:
        item = s.get(ServiceItem, "item.dibao")
        assert item is not None
        cal = workdays.calendar(s)
        started = dt.date(2026, 3, 2)
        for n, (due, at) in enumerate(((decided, fc.at(decided, 23, 59)),  # due today, decided at 23:59
                                       (decided - dt.timedelta(days=1), fc.at(decided, 0, 1)))):  # due yesterday
            app_id = _application(s, fc.at(started, 9), idempotency_key=f"due:{n}", status="completed")
            s.execute(insert(Task), [dict(application_id=app_id, item_id=item.id, department_id=item.department_id,
                                          status="approved", step_index=0, requires=[], inputs={}, outputs={},
                                          clock_started_on=started, due_date=due, statutory_due_date=due,
                                          version=2, decided_at=at)])
    with pack.unit_of_work() as s:
        cells = computed(on_time, s, decided, decided)
        assert len(cells) == 1
        values = next(iter(cells.values()))
        assert values["decided"] == 2 and values["on_time"] == 1
        assert values["working_days"] == 2 * cal.working_days_between(started, decided)
        assert cells == checks()["services.on_time"](s, day_from=decided, day_to=decided)
        assert not computed(on_time, s, decided - dt.timedelta(days=1), decided - dt.timedelta(days=1))


def test_the_pyramid_counts_a_leap_day_birthday_and_no_one_dead_by_then(pack) -> None:  # type: ignore[no-untyped-def]
    from tongban.registry.models import Person

    pyramid = published()["registry.pyramid"]
    day = dt.date(2025, 2, 28)
    with pack.unit_of_work() as s:
        rows = [("330203200002290011", dt.date(2000, 2, 29), None, True),  # 24 until 1 March 2025
                ("330203200002280012", dt.date(2000, 2, 28), None, True),  # 25 today
                ("330203195001010013", dt.date(1950, 1, 1), dt.date(2025, 2, 28), False),  # died today
                ("330203195001010021", dt.date(1950, 1, 1), dt.date(2025, 3, 1), False)]  # died tomorrow
        s.execute(insert(Person), [dict(id_number=i, name="测试", sex="M", birth_date=b, hukou_region_code="330203",
                                         region_code="330203001001", alive=alive, death_date=d)
                                    for i, b, d, alive in rows])
    with pack.unit_of_work() as s:
        cells = computed(pyramid, s, day, day)
        assert {k[2]: v["persons"] for k, v in cells.items()} == {("M", "20-24"): 1, ("M", "25-29"): 1,
                                                                   ("M", "75-79"): 1}
        assert cells == checks()["registry.pyramid"](s, day_from=day, day_to=day)
        assert s.scalar(select(Person.id).limit(1)) is not None
