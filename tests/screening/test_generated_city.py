"""The synthetic city enrols its residents in the benefits the pack's policies screen for, so a
screening of a generated city counts them as enrolled and offers them nothing they already hold."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.services.conftest import DEMO_PASSWORD
from tongban.core.timeutil import today_local
from tongban.demo import load_demo
from tongban.demo_generate import enrolments_of_pack
from tongban.registry import generator, loader
from tongban.registry.models import BenefitEnrolment, Person
from tongban.screening.engine import PolicyEngine, set_engine
from tongban.screening.models import ScreeningCase, ScreeningCount

DEMO_PACK = Path(__file__).resolve().parents[2] / "packs" / "demo"
SCREENED = ("dibao", "disability_care")  # the two benefits the generator hands out


@pytest.fixture()
def demo_engine() -> Iterator[PolicyEngine]:
    engine = PolicyEngine(DEMO_PACK)
    set_engine(engine)
    yield engine
    set_engine(None)


def test_the_generator_enrols_in_the_demo_packs_benefits_by_default() -> None:
    assert enrolments_of_pack(DEMO_PACK) == generator.Enrolments()


def test_screening_a_generated_city_offers_no_one_a_benefit_they_hold(  # type: ignore[no-untyped-def]
        client, db, settings, demo_engine: PolicyEngine) -> None:
    with db.unit_of_work() as s:
        load_demo(s, settings)
    haishu = tuple(c for c in loader.community_codes(db) if c.startswith("330203"))
    config = generator.CityConfig(persons=4000, seed=5, communities=haishu, as_of=today_local(),
                                  enrolments=enrolments_of_pack(DEMO_PACK))
    loader.load(db, generator.generate(config))

    token = client.post("/api/v1/auth/token", data={"username": "officer.mca", "password": DEMO_PASSWORD})
    resp = client.post("/api/v1/screening/runs", json={"region": "330203", "policy": list(SCREENED)},
                       headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert resp.status_code == 201, resp.text

    policies = demo_engine.policies(None)  # type: ignore[arg-type]
    with db.unit_of_work() as s:
        enrolled = {policy: sum(c.enrolled for c in s.scalars(select(ScreeningCount).where(
            ScreeningCount.policy_id == policy))) for policy in SCREENED}
        assert all(n > 0 for n in enrolled.values()), enrolled
        holders: dict[str, set[int]] = {}  # policy → persons holding its benefit, themselves or by household
        for policy in SCREENED:
            code = policies[policy].benefit
            persons = set(s.scalars(select(BenefitEnrolment.subject_id).where(
                BenefitEnrolment.benefit_code == code, BenefitEnrolment.subject_kind == "person")))
            households = set(s.scalars(select(BenefitEnrolment.subject_id).where(
                BenefitEnrolment.benefit_code == code, BenefitEnrolment.subject_kind == "household")))
            persons |= set(s.scalars(select(Person.id).where(Person.household_id.in_(households))))
            holders[policy] = persons
        cases = [(c.policy_id, c.person_id) for c in s.scalars(select(ScreeningCase))]
    assert cases  # some eligible residents are not enrolled: the city leaves work for screening
    assert [(p, person) for p, person in cases if person in holders[p]] == []
