"""Staff reads of persons (search, one person, a household) — served by the data hub, which
decides what each caller sees of the registry's records (`datahub.persons`), masks and audits.

ID numbers travel only in request bodies, never in paths or query strings.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tongban.core import access
from tongban.core.ids import Id
from tongban.datahub import persons
from tongban.registry.schemas import HouseholdOut, PersonField, PersonOut, PersonSearch, Unmask
from tongban.webkit.deps import CurrentPrincipal, DbSession
from tongban.webkit.schemas import Page, refusals

router = APIRouter(tags=["registry"])


@router.post("/registry/persons/search", response_model=Page[PersonOut], responses=refusals({
    422: "No criterion is given, a `name` comes without a `birth_date`, or `region_code` is outside your region"}))
def search(body: PersonSearch, session: DbSession, principal: CurrentPrincipal) -> Page[PersonOut]:
    """Staff: find people in your region (masked). Criteria go in the body."""
    access.require(principal, "person.read")
    rows = persons.search_persons(session, principal=principal, **body.model_dump())
    return Page(items=[PersonOut(**r) for r in rows])


# `:int` in the path: a GET of /registry/persons/search is a 405 (only POST searches), not a 422
# telling the caller that "search" is not a person id.
@router.get("/registry/persons/{person_id:int}", response_model=PersonOut)
def person(
    person_id: Id, session: DbSession, principal: CurrentPrincipal,
    fields: Annotated[list[PersonField] | None, Query(description="Only these fields.")] = None,
    hukou_bound: Annotated[bool, Query(description="A hukou service: staff of the hukou region may read.")] = False,
) -> PersonOut:
    """Staff: one person in your region, masked. The read is audited."""
    return PersonOut(**persons.read_person(session, principal=principal, person_id=person_id, fields=fields,
                                           hukou_bound=hukou_bound))


@router.post("/registry/persons/{person_id}/unmask", response_model=PersonOut, responses=refusals({
    422: "`purpose` has fewer than 4 characters once trimmed"}))
def person_unmasked(
    person_id: Id, body: Unmask, session: DbSession, principal: CurrentPrincipal,
    hukou_bound: Annotated[bool, Query(description="A hukou service: staff of the hukou region may read.")] = False,
) -> PersonOut:
    """Staff: one person in clear, for a stated purpose written to the audit chain."""
    return PersonOut(**persons.read_person(session, principal=principal, person_id=person_id,
                                           purpose=body.purpose, fields=body.fields, hukou_bound=hukou_bound))


@router.get("/registry/persons/{person_id}/household", response_model=HouseholdOut)
def household(person_id: Id, session: DbSession, principal: CurrentPrincipal) -> HouseholdOut:
    """Staff: a person's household, masked."""
    return HouseholdOut(**persons.read_household(session, principal=principal, person_id=person_id))
