"""The quality loop end to end: seeded defects are found by one run — exactly those — reported
to the right departments, and closed by 核验 once the data is fixed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from tongban.core.audit.models import AuditEvent
from tongban.core.errors import Invalid
from tongban.core.timeutil import utcnow
from tongban.governance import quality
from tongban.governance.models import (
    QualityIssue,
    QualityResult,
    QualityRule,
    QualityRun,
    QualityScore,
    ServiceHall,
)
from tongban.registry.identifiers import validate_resident_id
from tongban.registry.models import BenefitEnrolment, Household, Person

SEEDED = {
    "q.person.id-number": "dept.haishu.police",
    "q.household.head-is-person": "dept.haishu.police",
    "q.enrolment.deceased": "dept.haishu.mca",
    "q.halls.fresh": "dept.haishu.gov",
}


def _run(db, dataset_id=None) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        run_id = quality.start_run(s, actor="system:test", dataset_id=dataset_id)[0].id
    with db.unit_of_work() as s:
        quality.execute_run(s, run_id=run_id)
    return run_id


def _bad_id(good: str) -> str:
    """The same number with a wrong check character."""
    wrong = "0" if good[-1] != "0" else "1"
    return good[:-1] + wrong


def seed_defects(db, city) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        b = s.get_one(Person, city["b"])
        b.id_number = _bad_id(b.id_number)
        s.get_one(Household, city["h2"]).head_person_id = 987654  # no such person
        s.add(BenefitEnrolment(subject_kind="person", subject_id=city["c"], benefit_code="assistance.dibao",
                               start_date=dt.date(2024, 3, 1), amount_fen=80000))  # deceased, still paid
        s.execute(update(ServiceHall).values(updated_at=utcnow() - dt.timedelta(days=30)))  # weekly → stale


def fix_defects(db, city, good_id: str) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        s.get_one(Person, city["b"]).id_number = good_id
        s.get_one(Household, city["h2"]).head_person_id = city["b"]
        s.execute(update(BenefitEnrolment).where(BenefitEnrolment.subject_id == city["c"],
                                                 BenefitEnrolment.end_date.is_(None))
                  .values(end_date=dt.date(2026, 9, 1)))
        s.execute(update(ServiceHall).values(updated_at=utcnow()))


def test_clean_data_passes_every_rule_and_scores_100(db, city):  # type: ignore[no-untyped-def]
    run_id = _run(db)
    with db.unit_of_work() as s:
        results = s.scalars(select(QualityResult).where(QualityResult.run_id == run_id)).all()
        assert len(results) == s.scalar(select(func.count()).select_from(QualityRule)) > 10
        assert [r.rule_id for r in results if r.failed] == []
        assert s.scalar(select(func.count()).select_from(QualityIssue)) == 0
        scores = {sc.dataset_id: sc.score for sc in s.scalars(select(QualityScore).where(QualityScore.run_id == run_id))}
    assert scores["ds.person"] == 100.0 and scores["ds.enrolment"] == 100.0


def test_one_run_finds_exactly_the_seeded_defects_and_verification_closes_them(db, city):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        good_id = s.get_one(Person, city["b"]).id_number
    seed_defects(db, city)
    with db.unit_of_work() as s, pytest.raises(Invalid):
        validate_resident_id(s.get_one(Person, city["b"]).id_number)
    run_id = _run(db)
    with db.unit_of_work() as s:
        failed = {r.rule_id: r.failed for r in s.scalars(select(QualityResult).where(QualityResult.run_id == run_id))
                  if r.failed}
        issues = s.scalars(select(QualityIssue).order_by(QualityIssue.id)).all()
        assert failed == dict.fromkeys(SEEDED, 1)
        assert {i.rule_id: i.department_id for i in issues} == SEEDED
        assert all(i.status == "reported" for i in issues)
        by_rule = {i.rule_id: i for i in issues}
        sample = by_rule["q.person.id-number"].samples
        assert sample == [{"id": city["b"], "id_number": _bad_id(good_id)[:6] + "********" + _bad_id(good_id)[-4:]}]
        assert good_id[6:14] not in str(sample)  # the birth date is masked out
        assert by_rule["q.household.head-is-person"].samples == [{"id": city["h2"], "head_person_id": 987654}]
        score = s.scalar(select(QualityScore.score).where(QualityScore.run_id == run_id,
                                                          QualityScore.dataset_id == "ds.person"))
        assert 0 < score < 100
        reports = s.scalar(select(func.count()).where(AuditEvent.action == "quality.issue.report"))
        assert reports == 4

    # A second run updates the open issues instead of opening new ones.
    _run(db)
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(QualityIssue)) == 4

    # The owners acknowledge with a plan and submit; verifying before the fix sends it back to 整改.
    staff = {"dept.haishu.police": "steward.police", "dept.haishu.mca": "steward.mca",
             "dept.haishu.gov": "steward.gov"}
    from tests.governance.test_quality_api import principal_of

    with db.unit_of_work() as s:
        ids = {i.rule_id: (i.id, i.department_id) for i in s.scalars(select(QualityIssue))}
    for _rule_id, (issue_id, dept) in ids.items():
        who = principal_of(db, staff[dept])
        with db.unit_of_work() as s:
            quality.transition(s, principal=who, issue_id=issue_id, action="acknowledge", plan="核对原始档案后更正")
        with db.unit_of_work() as s:
            quality.transition(s, principal=who, issue_id=issue_id, action="submit")
    police = principal_of(db, "steward.police")
    first = ids["q.person.id-number"][0]
    with db.unit_of_work() as s:
        assert quality.transition(s, principal=police, issue_id=first, action="verify").status == "rectifying"
    with db.unit_of_work() as s:
        quality.transition(s, principal=police, issue_id=first, action="submit")

    fix_defects(db, city, good_id)
    for _rule_id, (issue_id, dept) in ids.items():
        with db.unit_of_work() as s:
            issue = quality.transition(s, principal=principal_of(db, staff[dept]), issue_id=issue_id, action="verify")
            assert (issue.status, issue.failed) == ("closed", 0)
    with db.unit_of_work() as s:
        assert s.get_one(QualityIssue, first).verifications == 2
        verdicts = s.execute(select(AuditEvent.outcome, func.count()).where(AuditEvent.action == "quality.issue.verify")
                             .group_by(AuditEvent.outcome)).all()
    assert dict(verdicts) == {"failed": 1, "passed": 4}
    run_id = _run(db)
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).where(QualityResult.run_id == run_id, QualityResult.failed > 0)) == 0
        assert s.scalar(select(func.count()).where(QualityIssue.status != "closed")) == 0


def test_a_run_verifies_issues_waiting_for_verification(db, city):  # type: ignore[no-untyped-def]
    from tests.governance.test_quality_api import principal_of

    with db.unit_of_work() as s:
        good_id = s.get_one(Person, city["b"]).id_number
    seed_defects(db, city)
    _run(db)
    police = principal_of(db, "steward.police")
    with db.unit_of_work() as s:
        issue_id = s.scalar(select(QualityIssue.id).where(QualityIssue.rule_id == "q.person.id-number"))
        quality.transition(s, principal=police, issue_id=issue_id, action="acknowledge", plan="更正校验码")
        quality.transition(s, principal=police, issue_id=issue_id, action="submit")
    fix_defects(db, city, good_id)
    _run(db, dataset_id="ds.person")
    with db.unit_of_work() as s:
        assert s.get_one(QualityIssue, issue_id).status == "closed"
        # the others were not verified by anyone: still open
        assert s.scalar(select(func.count()).where(QualityIssue.status == "reported")) == 3
        assert s.scalar(select(func.count()).select_from(QualityRun)) == 2


def _person(s, city):  # type: ignore[no-untyped-def]
    return s.get_one(Person, city["b"])


def _income(s, city, **values):  # type: ignore[no-untyped-def]
    from tongban.registry.models import IncomeRecord

    s.add(IncomeRecord(person_id=city["a"], **{"month": "2026-10", "source": "wage", "amount_fen": 100, **values}))


KIND_DEFECTS = [
    ("q.person.name", lambda s, c: setattr(_person(s, c), "name", " ")),
    ("q.person.sex", lambda s, c: setattr(_person(s, c), "sex", "X")),
    ("q.person.phone", lambda s, c: setattr(_person(s, c), "phone", "12345")),
    ("q.person.disability-grade", lambda s, c: setattr(_person(s, c), "disability_grade", 7)),
    ("q.person.marital-status", lambda s, c: setattr(_person(s, c), "marital_status", "unknown")),
    ("q.household.area", lambda s, c: setattr(s.get_one(Household, c["h1"]), "housing_area_m2", 5000)),
    ("q.income.month", lambda s, c: _income(s, c, month="2026-13")),
    ("q.income.amount", lambda s, c: _income(s, c, amount_fen=-5)),
    ("q.enrolment.person-exists", lambda s, c: s.add(BenefitEnrolment(
        subject_kind="person", subject_id=999_999, benefit_code="assistance.dibao", start_date=dt.date(2025, 1, 1)))),
    ("q.person.fresh", lambda s, c: s.execute(update(Person).values(updated_at=utcnow() - dt.timedelta(days=3)))),
]


@pytest.mark.parametrize(("rule_id", "defect"), KIND_DEFECTS, ids=[r for r, _ in KIND_DEFECTS])
def test_each_kind_of_rule_finds_its_defect_and_nothing_else(db, city, rule_id, defect):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        defect(s, city)
    run_id = _run(db)
    with db.unit_of_work() as s:
        failed = {r.rule_id: r.failed for r in s.scalars(select(QualityResult).where(QualityResult.run_id == run_id))
                  if r.failed}
    assert failed == {rule_id: 1}
