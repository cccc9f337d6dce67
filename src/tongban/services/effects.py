"""What an approved item changes in the registries it owns: 户口出生登记 creates the newborn's
person record with a new resident ID number, household membership and the parents'
guardianship; an insurance approval creates a benefit enrolment. The registry does the writing
(`registry.writes`); this module turns an application's form and outcome into its arguments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from tongban.registry import reads, writes
from tongban.services import family


def register_birth(session: Session, *, applicant_person_id: int, data: Mapping[str, Any], actor: str,
                   department_id: str) -> dict[str, Any]:
    """Create the newborn in the household named in the form (the applicant's or their spouse's)."""
    applicant = reads.person_that_exists(session, applicant_person_id)
    parents = family.parents(session, applicant)
    newborn = writes.register_birth(
        session, household_number=data.get("household_number"),
        parent_ids={p.id for p in parents.values() if p is not None}, name=str(data["child_name"]),
        sex=str(data["child_sex"]), birth_date=dt.date.fromisoformat(str(data["child_birth_date"])),
        region_code=applicant.region_code, actor=actor, department_id=department_id)
    return {"newborn_person_id": newborn.id, "newborn_id_number": newborn.id_number}


def enrol(session: Session, *, person_id: int, benefit_code: str, start: dt.date, actor: str,
          department_id: str) -> dict[str, Any]:
    return {"enrolment_id": writes.enrol_benefit(session, person_id=person_id, benefit_code=benefit_code,
                                                 start=start, actor=actor, department_id=department_id)}
