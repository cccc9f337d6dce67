"""Governance fixtures: the demo pack's catalog and rules over a few persons, households and
enrolments that pass every rule, and the staff who act on quality issues."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.factories import make_resident, make_staff
from tests.registry.factories import make_household, make_person
from tongban.core.packs.loader import load_pack
from tongban.registry.models import BenefitEnrolment

PACK = Path(__file__).resolve().parents[2] / "packs" / "demo"


@pytest.fixture()
def city(db):  # type: ignore[no-untyped-def]
    """Clean data: every quality rule of the demo pack passes on it."""
    with db.unit_of_work() as s:
        load_pack(s, PACK)
        h1 = make_household(s, "330203000001")
        h2 = make_household(s, "330203000002")
        a = make_person(s, "陈秀英", birth=dt.date(1985, 11, 2), household=h1)
        b = make_person(s, "周强", birth=dt.date(1979, 4, 4), sex="M", household=h2, road="柳汀街")
        c = make_person(s, "王大伯", birth=dt.date(1940, 1, 9), sex="M", household=h2, relationship="parent")
        c.alive, c.death_date = False, dt.date(2026, 9, 1)
        s.add_all([
            BenefitEnrolment(subject_kind="person", subject_id=a.id, benefit_code="assistance.dibao",
                             start_date=dt.date(2025, 1, 1), amount_fen=90000),
            # ended when he died: consistent
            BenefitEnrolment(subject_kind="person", subject_id=c.id, benefit_code="elderly.allowance",
                             start_date=dt.date(2020, 1, 1), end_date=dt.date(2026, 9, 1)),
        ])
        for username, dept, roles in [
            ("steward.police", "dept.haishu.police", ["data_steward"]),
            ("steward.mca", "dept.haishu.mca", ["data_steward"]),
            ("steward.gov", "dept.haishu.gov", ["data_steward"]),
            ("quality.bigdata", "dept.haishu.bigdata", ["quality_officer"]),
            ("officer.police", "dept.haishu.police", ["officer"]),
        ]:
            make_staff(s, username, department_id=dept, roles=roles)
        make_resident(s, "chen", id_number=a.id_number)
        ids = {"a": a.id, "b": b.id, "c": c.id, "h1": h1.id, "h2": h2.id}
    return ids
