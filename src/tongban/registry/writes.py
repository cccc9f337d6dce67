"""The registry's published write functions: what a scenario (services) changes in the registry's
tables — a newborn's person record with its household place and guardians (户口出生登记), a
benefit enrolment, a certificate put in the holder's wallet — without importing them (an
import-linter contract keeps `registry.models` out of the scenarios).

Keyword-only; none commits: the caller (the request or the command) owns the transaction. Each
records its audit event as the scenario did before the code moved here. Named in the registry's
declaration (registry/slice.py, `writes`); a slice that may not import the registry finds one
with `core.slices.write("registry.<name>")`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import masking
from tongban.core.audit.log import record
from tongban.core.errors import Conflict
from tongban.core.i18n import N_
from tongban.registry.identifiers import ric_check_char, validate_resident_id
from tongban.registry.models import (
    BenefitEnrolment,
    Certificate,
    Guardianship,
    Household,
    HouseholdMember,
    Person,
)


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


def register_birth(session: Session, *, household_number: Any, parent_ids: Iterable[int], name: str, sex: str,
                   birth_date: dt.date, region_code: str | None, actor: str, department_id: str) -> Person:
    """The newborn's person record (a new resident ID number) in the household `household_number`,
    which must hold one of `parent_ids`; each parent becomes its guardian. `region_code` is where
    it lives (the applicant's); its hukou is the household's."""
    parents = set(parent_ids)
    household = session.scalar(select(Household).where(Household.household_number == household_number))
    if household is None or not session.scalar(select(HouseholdMember.person_id).where(
            HouseholdMember.household_id == household.id, HouseholdMember.person_id.in_(parents))):
        raise Conflict(N_("The household named is not a parent's household"), field="household_number")
    number = allocate_resident_id(session, area_code=household.region_code[:6], birth_date=birth_date, sex=sex)
    newborn = Person(id_number=number, name=name, sex=sex, birth_date=birth_date,
                     hukou_region_code=household.region_code, region_code=region_code,
                     address_id=household.address_id, household_id=household.id, alive=True,
                     marital_status="single", employment_status="none", student_status=None)
    session.add(newborn)
    session.flush()
    session.add(HouseholdMember(household_id=household.id, person_id=newborn.id, relationship="child"))
    for parent_id in sorted(parents):
        session.add(Guardianship(guardian_person_id=parent_id, ward_person_id=newborn.id, kind="parent"))
    session.flush()
    record(session, actor=actor, action="person.register_birth", subject=masking.subject("person", newborn.id),
           department_id=department_id, region_code=household.region_code,
           details={"household": masking.subject("household", household.id), "guardians": len(parents)})
    return newborn


def enrol_benefit(session: Session, *, person_id: int, benefit_code: str, start: dt.date, actor: str,
                  department_id: str) -> int:
    """Enrol the person in the benefit from `start`; the enrolment's id. Its natural key is unique:
    a second approval on the same day finds the first (and is audited again)."""
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
    return int(enrolment.id)


def new_certificate(*, holder_id: int, type_code: str, number: str, issuer_name: str, issuer_code: str | None,
                    issue_date: dt.date, valid_to: dt.date | None) -> Certificate:
    """A valid certificate for a person, not stored yet: the issuer signs its document (which
    needs its fields) and fills `data` before `put_in_wallet` stores it."""
    return Certificate(holder_kind="person", holder_id=holder_id, type_code=type_code, number=number,
                       issuer_name=issuer_name, issuer_code=issuer_code, issue_date=issue_date,
                       valid_from=issue_date, valid_to=valid_to, status="valid", data={})


def put_in_wallet(session: Session, *, certificate: Certificate) -> Certificate:
    """Store a certificate made by `new_certificate` (its holder's wallet shows it); flushed, so
    it has its ids. The issuer audits the issue (it knows the type, key and application)."""
    session.add(certificate)
    session.flush()
    return certificate


def revoke_certificate(*, certificate: Certificate) -> None:
    """Mark the certificate revoked; the caller records the revocation (who, why) and audits it."""
    certificate.status = "revoked"

