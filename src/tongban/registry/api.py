"""Registry API: staff search and person view through the one read path; residents' own record.

ID numbers travel only in request bodies, never in paths or query strings.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from tongban.core.ids import Id
from tongban.registry import service
from tongban.registry.schemas import (
    CertificateOut,
    CorrectionIn,
    CorrectionOut,
    DecisionIn,
    HouseholdOut,
    PersonField,
    PersonOut,
    PersonSearch,
    Unmask,
)
from tongban.web.deps import CurrentPrincipal, DbSession
from tongban.web.schemas import Page

router = APIRouter(tags=["registry"])


@router.post("/registry/persons/search", response_model=Page[PersonOut])
def search(body: PersonSearch, session: DbSession, principal: CurrentPrincipal) -> Page[PersonOut]:
    """Staff: find people in your region (masked). Criteria go in the body."""
    rows = service.search_persons(session, principal=principal, **body.model_dump())
    return Page(items=[PersonOut(**r) for r in rows])


@router.get("/registry/persons/{person_id}", response_model=PersonOut)
def person(
    person_id: Id, session: DbSession, principal: CurrentPrincipal,
    fields: Annotated[list[PersonField] | None, Query(description="Only these fields.")] = None,
    hukou_bound: Annotated[bool, Query(description="A hukou service: staff of the hukou region may read.")] = False,
) -> PersonOut:
    """Staff: one person in your region, masked. The read is audited."""
    return PersonOut(**service.read_person(session, principal=principal, person_id=person_id, fields=fields,
                                           hukou_bound=hukou_bound))


@router.post("/registry/persons/{person_id}/unmask", response_model=PersonOut)
def person_unmasked(
    person_id: Id, body: Unmask, session: DbSession, principal: CurrentPrincipal,
    hukou_bound: Annotated[bool, Query(description="A hukou service: staff of the hukou region may read.")] = False,
) -> PersonOut:
    """Staff: one person in clear, for a stated purpose written to the audit chain."""
    return PersonOut(**service.read_person(session, principal=principal, person_id=person_id,
                                           purpose=body.purpose, fields=body.fields, hukou_bound=hukou_bound))


@router.get("/registry/persons/{person_id}/household", response_model=HouseholdOut)
def household(person_id: Id, session: DbSession, principal: CurrentPrincipal) -> HouseholdOut:
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
def decide(request_id: Id, body: DecisionIn, session: DbSession, principal: CurrentPrincipal) -> CorrectionOut:
    cr = service.decide_correction(session, principal=principal, request_id=request_id,
                                   approve=body.decision == "approve", reason=body.reason)
    return CorrectionOut(**service.correction_dict(cr))
