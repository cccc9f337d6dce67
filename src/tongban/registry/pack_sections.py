"""The demo's registry records (`residents.yaml`, demo only): the cast's residents as persons in
households with addresses, incomes and relatives, so the demo's front door has real records."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core.identity.models import Account
from tongban.core.packs.loader import Changes, Pack, PackFile, register_section
from tongban.core.packs.models import PackModel, RefersTo, SectionFile, Text
from tongban.core.timeutil import today_local
from tongban.registry.identifiers import validate_resident_id
from tongban.registry.models import Address, Guardianship, Household, HouseholdMember, IncomeRecord, Person

Relationship = Literal["head", "spouse", "child", "parent", "grandchild", "sibling", "other"]


class AddressDecl(PackModel):
    road: str
    number: str
    building: str | None = None
    unit: str | None = None
    room: str | None = None


class MemberDecl(PackModel):
    account: Annotated[str | None, RefersTo("account")] = None  # a cast resident …
    name: str | None = None  # … or a relative without a login
    id_number: Annotated[str | None, Field(pattern=r"^\d{17}[\dX]$")] = None
    about: Text | None = None
    relationship: Relationship
    marital_status: Literal["single", "married", "divorced", "widowed"] = "single"
    employment_status: Literal["employed", "unemployed", "retired", "none", "unknown"] = "unknown"
    student_status: Literal["preschool", "primary", "junior", "senior", "vocational", "university"] | None = None
    disability_type: Literal["visual", "hearing", "speech", "physical", "intellectual", "mental",
                             "multiple"] | None = None
    disability_grade: int | None = Field(None, ge=1, le=4)
    monthly_income_fen: int = Field(0, ge=0)
    income_source: Literal["wage", "business", "pension", "transfer", "property", "other"] = "wage"
    guardian: Annotated[str | None, RefersTo("account")] = None


class HouseholdDecl(PackModel):
    number: str
    region: Annotated[str, RefersTo("region")]
    address: AddressDecl
    housing_area_m2: int | None = Field(None, ge=0)
    vehicles: int = Field(0, ge=0)
    members: list[MemberDecl] = Field(min_length=1)


class ResidentsFile(SectionFile):
    households: list[HouseholdDecl]


def _months(n: int) -> list[str]:
    first = today_local().replace(day=1)
    out = []
    for _ in range(n):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        out.append(f"{first:%Y-%m}")
    return out


def apply_residents(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    changes = Changes()
    months = _months(6)
    for pf in files:
        for h in pf.model.households:
            if session.scalar(select(Household.id).where(Household.household_number == h.number)):
                changes.count("unchanged")
                continue
            address = Address(region_code=h.region, **h.address.model_dump())
            session.add(address)
            session.flush()
            household = Household(household_number=h.number, region_code=h.region, address_id=address.id,
                                  housing_area_m2=h.housing_area_m2, vehicles=h.vehicles)
            session.add(household)
            session.flush()
            by_account: dict[str, Person] = {}
            for m in h.members:
                account = (session.scalar(select(Account).where(Account.username == m.account))
                           if m.account else None)
                number = account.id_number if account else m.id_number
                name = account.display_name if account else m.name
                if not number or not name:
                    continue
                parsed = validate_resident_id(number)
                person = Person(
                    id_number=number, name=name, sex=parsed.sex, birth_date=parsed.birth_date,
                    phone=account.phone if account else None, hukou_region_code=h.region[:6],
                    region_code=h.region, address_id=address.id, household_id=household.id,
                    marital_status=m.marital_status, employment_status=m.employment_status,
                    student_status=m.student_status, disability_type=m.disability_type,
                    disability_grade=m.disability_grade)
                session.add(person)
                session.flush()
                session.add(HouseholdMember(household_id=household.id, person_id=person.id,
                                            relationship=m.relationship))
                if m.relationship == "head":
                    household.head_person_id = person.id
                if m.monthly_income_fen:
                    session.add_all([IncomeRecord(person_id=person.id, month=mo, source=m.income_source,
                                                  amount_fen=m.monthly_income_fen) for mo in months])
                if m.account:
                    by_account[m.account] = person
                if m.guardian:
                    session.flush()
                    guardian = by_account.get(m.guardian)
                    if guardian is not None:
                        session.add(Guardianship(guardian_person_id=guardian.id, ward_person_id=person.id))
            session.flush()
            changes.count("created")
    return changes


register_section("residents", ResidentsFile, apply=apply_residents, order=910, demo_only=True, id_keys=("number",),
                 description="The demo residents' registry records: households, addresses, incomes (demo only).")
