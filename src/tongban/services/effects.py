"""What an approved item changes in the registries it owns: 户口出生登记 creates the newborn's
person record with a new resident ID number, household membership and the parents'
guardianship; an insurance approval creates a benefit enrolment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import masking
from tongban.core.audit.log import record
from tongban.core.errors import Conflict
from tongban.core.i18n import N_
from tongban.registry.identifiers import ric_check_char, validate_resident_id
from tongban.registry.models import BenefitEnrolment, Guardianship, Household, HouseholdMember, Person
from tongban.services import family


def allocate_resident_id(session: Session, *, area_code: str, birth_date: dt.date, sex: str) -> str:
    """A new GB 11643 number: area + birth date + the first free sequence of the right parity + check."""
    prefix = f"{area_code}{birth_date:%Y%m%d}"
    taken = {n[14:17] for n in session.scalars(select(Person.id_number).where(Person.id_number.like(prefix + "%")))}
    for seq in range(1 if sex == "M" else 2, 1000, 2):
        s = f"{seq:03d}"
        if s not in taken:
            number = prefix + s + ric_check_char(prefix + s)
            validate_resident_id(number, birth_date=birth_date, sex=sex)
            return number
    raise Conflict(N_("No resident ID number is free for this area and birth date"))


def register_birth(session: Session, *, applicant_person_id: int, data: Mapping[str, Any], actor: str,
                   department_id: str) -> dict[str, Any]:
    """Create the newborn in the household named in the form (the applicant's or their spouse's)."""
    applicant = session.get_one(Person, applicant_person_id)
    parents = family.parents(session, applicant)
    household = session.scalar(select(Household).where(Household.household_number == data.get("household_number")))
    parent_ids = {p.id for p in parents.values() if p is not None}
    if household is None or not session.scalar(select(HouseholdMember.person_id).where(
            HouseholdMember.household_id == household.id, HouseholdMember.person_id.in_(parent_ids))):
        raise Conflict(N_("The household named is not a parent's household"), field="household_number")
    birth_date = dt.date.fromisoformat(str(data["child_birth_date"]))
    sex = str(data["child_sex"])
    number = allocate_resident_id(session, area_code=household.region_code[:6], birth_date=birth_date, sex=sex)
    newborn = Person(id_number=number, name=str(data["child_name"]), sex=sex, birth_date=birth_date,
                     hukou_region_code=household.region_code, region_code=applicant.region_code,
                     address_id=household.address_id, household_id=household.id, alive=True,
                     marital_status="single", employment_status="none", student_status=None)
    session.add(newborn)
    session.flush()
    session.add(HouseholdMember(household_id=household.id, person_id=newborn.id, relationship="child"))
    for parent_id in sorted(parent_ids):
        session.add(Guardianship(guardian_person_id=parent_id, ward_person_id=newborn.id, kind="parent"))
    session.flush()
    record(session, actor=actor, action="person.register_birth", subject=masking.subject("person", newborn.id),
           department_id=department_id, region_code=household.region_code,
           details={"household": masking.subject("household", household.id), "guardians": len(parent_ids)})
    return {"newborn_person_id": newborn.id, "newborn_id_number": number}


def enrol(session: Session, *, person_id: int, benefit_code: str, start: dt.date, actor: str,
          department_id: str) -> dict[str, Any]:
    # The enrolment's natural key is unique: a second approval on the same day finds the first.
    enrolment = session.scalar(select(BenefitEnrolment).where(
        BenefitEnrolment.subject_kind == "person", BenefitEnrolment.subject_id == person_id,
        BenefitEnrolment.benefit_code == benefit_code, BenefitEnrolment.start_date == start))
    if enrolment is None:
        enrolment = BenefitEnrolment(subject_kind="person", subject_id=person_id, benefit_code=benefit_code,
                                     start_date=start)
        session.add(enrolment)
        session.flush()
    record(session, actor=actor, action="benefit.enrol", subject=masking.subject("person", person_id),
           department_id=department_id, details={"benefit": benefit_code, "enrolment": enrolment.id})
    return {"enrolment_id": enrolment.id}
