"""Registry API: residents' own record, wallet and corrections (staff read persons through the data
hub: `datahub.persons_api`).

ID numbers travel only in request bodies, never in paths or query strings.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from tongban.core.ids import Id
from tongban.core.paging import DEFAULT_LIMIT, Limit
from tongban.registry import service
from tongban.registry.schemas import (
    CertificateOut,
    CorrectionIn,
    CorrectionOut,
    DecisionIn,
    HouseholdOut,
    PersonOut,
)
from tongban.webkit.deps import CurrentPrincipal, DbSession
from tongban.webkit.schemas import Page, refusals

router = APIRouter(tags=["registry"])


@router.get("/me/record", response_model=PersonOut)
def my_record(session: DbSession, principal: CurrentPrincipal) -> PersonOut:
    """Residents: your own registry record."""
    return PersonOut(**service.my_record(session, principal=principal))


@router.get("/me/household", response_model=HouseholdOut)
def my_household(session: DbSession, principal: CurrentPrincipal) -> HouseholdOut:
    return HouseholdOut(**service.my_household(session, principal=principal))


@router.get("/me/wallet", response_model=Page[CertificateOut])
def my_wallet(session: DbSession, principal: CurrentPrincipal, limit: Limit = DEFAULT_LIMIT,
              cursor: str | None = None) -> Page[CertificateOut]:
    """Residents: your certificates (电子证照) and those of your wards, newest first, a page at a time."""
    rows, next_cursor = service.my_wallet(session, principal=principal, limit=limit, cursor=cursor)
    return Page(items=[CertificateOut(**c) for c in rows], next_cursor=next_cursor)


@router.post("/me/corrections", response_model=CorrectionOut, status_code=201, responses=refusals({
    422: "`field` is not one a resident may ask to correct here, or `requested_value` breaks that field's rule "
         "(a name, a phone number, a listed code)"}))
def request_correction(body: CorrectionIn, session: DbSession, principal: CurrentPrincipal) -> CorrectionOut:
    """Residents: ask the owning department to correct your record."""
    cr = service.request_correction(session, principal=principal, **body.model_dump())
    return CorrectionOut(**service.correction_dict(cr))


@router.get("/me/corrections", response_model=Page[CorrectionOut])
def my_corrections(session: DbSession, principal: CurrentPrincipal, limit: Limit = DEFAULT_LIMIT,
                   cursor: str | None = None) -> Page[CorrectionOut]:
    """Residents: your correction requests, newest first, a page at a time."""
    rows, next_cursor = service.my_corrections(session, principal=principal, limit=limit, cursor=cursor)
    return Page(items=[CorrectionOut(**service.correction_dict(c)) for c in rows], next_cursor=next_cursor)


@router.get("/registry/corrections", response_model=Page[CorrectionOut])
def correction_queue(session: DbSession, principal: CurrentPrincipal,
                     status: Literal["open", "approved", "rejected"] = "open") -> Page[CorrectionOut]:
    """Staff: your department's correction requests."""
    return Page(items=[CorrectionOut(**service.correction_dict(c))
                       for c in service.correction_queue(session, principal=principal, status=status)])


@router.post("/registry/corrections/{request_id}/decision", response_model=CorrectionOut, responses=refusals({
    422: "`reason` has fewer than 4 characters once trimmed",
    409: "The request was decided already"}))
def decide(request_id: Id, body: DecisionIn, session: DbSession, principal: CurrentPrincipal) -> CorrectionOut:
    cr = service.decide_correction(session, principal=principal, request_id=request_id,
                                   approve=body.decision == "approve", reason=body.reason)
    return CorrectionOut(**service.correction_dict(cr))
