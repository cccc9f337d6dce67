"""Registry effects are safe to apply twice (the enrolment's natural key is unique)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from tests.factories import seed_base
from tests.registry.factories import make_person
from tongban.registry.models import BenefitEnrolment
from tongban.services import effects


def test_enrolling_twice_on_one_day_finds_the_first_enrolment(db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
        pid = make_person(s, "张小宝", birth=dt.date(2026, 3, 1), sex="M").id
    kw = {"person_id": pid, "benefit_code": "medinsure.resident", "start": dt.date(2026, 3, 5),
          "actor": "account:1", "department_id": "dept.haishu.mca"}
    with db.unit_of_work() as s:
        first = effects.enrol(s, **kw)
    with db.unit_of_work() as s:
        second = effects.enrol(s, **kw)
        assert s.scalar(select(func.count()).select_from(BenefitEnrolment)) == 1
    assert first == second
