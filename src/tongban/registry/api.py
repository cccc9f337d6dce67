"""Registry API: staff search and person view through the one read path; residents' own record.

ID numbers travel only in request bodies, never in paths or query strings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tongban.registry import service
from tongban.web.deps import CurrentPrincipal, DbSession
from tongban.web.schemas import Page

router = APIRouter(tags=["registry"])


class PersonOut(BaseModel):
    """A person as the caller may see them: fields their department's basis does not cover are null."""

    id: int
    id_number: str | None
    name: str | None
    sex: str | None
    birth_date: dt.date | None
    phone: str | None
    hukou_region_code: str | None
    region_code: str | None
    address: str | None
    alive: bool | None
    death_date: dt.date | None
    marital_status: str | None
    disability_type: str | None
    disability_grade: int | None
    employment_status: str | None
    student_status: str | None
    household_id: int | None
    masked: bool = Field(description="True when some personal fields are masked or withheld.")


class MemberOut(PersonOut):
    relationship: str


class HouseholdOut(BaseModel):
    id: int
    household_number: str
    region_code: str
    housing_area_m2: int | None
    vehicles: int
    members: list[MemberOut]


class PersonSearch(BaseModel):
    id_number: str | None = Field(None, max_length=18, description="Exact resident ID number.")
    name: str | None = Field(None, max_length=50)
    birth_date: dt.date | None = None
    road: str | None = Field(None, max_length=100)
    number: str | None = Field(None, max_length=20)
    region_code: str | None = Field(None, pattern=r"^\d{6}(\d{3}){0,2}$")


class Purpose(BaseModel):
    purpose: str = Field(min_length=1, max_length=500, description="Why the full record is needed (audited).")


class CertificateOut(BaseModel):
    id: int
    type_code: str
    number: str
    issuer_name: str
    issuer_code: str | None
    issue_date: dt.date
    valid_from: dt.date | None
    valid_to: dt.date | None
    status: str
    data: dict[str, Any]
    holder: dict[str, Any]


class CorrectionIn(BaseModel):
    field: str
    requested_value: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=500)


class CorrectionOut(BaseModel):
    id: int
    person_id: int
    field: str
    requested_value: str
    reason: str
    department_id: str
    status: str
    decision_reason: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None


class DecisionIn(BaseModel):
    decision: Literal["approve", "reject"]
    reason: str = Field(min_length=1, max_length=500)


@router.post("/registry/persons/search", response_model=Page[PersonOut])
def search(body: PersonSearch, session: DbSession, principal: CurrentPrincipal) -> Page[PersonOut]:
    """Staff: find people in your region (masked). Criteria go in the body."""
    rows = service.search_persons(session, principal=principal, **body.model_dump())
    return Page(items=[PersonOut(**r) for r in rows])


@router.get("/registry/persons/{person_id}", response_model=PersonOut)
def person(person_id: int, session: DbSession, principal: CurrentPrincipal) -> PersonOut:
    """Staff: one person, masked."""
    return PersonOut(**service.read_person(session, principal=principal, person_id=person_id))


@router.post("/registry/persons/{person_id}/unmask", response_model=PersonOut)
def person_unmasked(person_id: int, body: Purpose, session: DbSession, principal: CurrentPrincipal) -> PersonOut:
    """Staff: one person in full, for a stated purpose written to the audit chain."""
    return PersonOut(**service.read_person(session, principal=principal, person_id=person_id,
                                           purpose=body.purpose))


@router.get("/registry/persons/{person_id}/household", response_model=HouseholdOut)
def household(person_id: int, session: DbSession, principal: CurrentPrincipal) -> HouseholdOut:
    """Staff: a person's household, masked."""
    return HouseholdOut(**service.read_household(session, principal=principal, person_id=person_id))


@router.get("/me/record", response_model=PersonOut)
def my_record(session: DbSession, principal: CurrentPrincipal) -> PersonOut:
    """Residents: your own registry record."""
    return PersonOut(**service.my_record(session, principal=principal))


@router.get("/me/household", response_model=HouseholdOut)
def my_household(session: DbSession, principal: CurrentPrincipal) -> HouseholdOut:
    return HouseholdOut(**service.my_household(session, principal=principal))


@router.get("/me/wallet", response_model=Page[CertificateOut])
def my_wallet(session: DbSession, principal: CurrentPrincipal) -> Page[CertificateOut]:
    """Residents: your certificates (电子证照) and those of your wards."""
    return Page(items=[CertificateOut(**c) for c in service.my_wallet(session, principal=principal)])


@router.post("/me/corrections", response_model=CorrectionOut, status_code=201)
def request_correction(body: CorrectionIn, session: DbSession, principal: CurrentPrincipal) -> CorrectionOut:
    """Residents: ask the owning department to correct your record."""
    cr = service.request_correction(session, principal=principal, **body.model_dump())
    return CorrectionOut(**service.correction_dict(cr))


@router.get("/me/corrections", response_model=Page[CorrectionOut])
def my_corrections(session: DbSession, principal: CurrentPrincipal) -> Page[CorrectionOut]:
    return Page(items=[CorrectionOut(**service.correction_dict(c))
                       for c in service.my_corrections(session, principal=principal)])


@router.get("/registry/corrections", response_model=Page[CorrectionOut])
def correction_queue(session: DbSession, principal: CurrentPrincipal,
                     status: Literal["open", "approved", "rejected"] = "open") -> Page[CorrectionOut]:
    """Staff: your department's correction requests."""
    return Page(items=[CorrectionOut(**service.correction_dict(c))
                       for c in service.correction_queue(session, principal=principal, status=status)])


@router.post("/registry/corrections/{request_id}/decision", response_model=CorrectionOut)
def decide(request_id: int, body: DecisionIn, session: DbSession, principal: CurrentPrincipal) -> CorrectionOut:
    cr = service.decide_correction(session, principal=principal, request_id=request_id,
                                   approve=body.decision == "approve", reason=body.reason)
    return CorrectionOut(**service.correction_dict(cr))
