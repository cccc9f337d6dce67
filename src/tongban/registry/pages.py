"""Registry pages: the resident's own record (我要查) and the workbench's person search and view.

They call the same service functions as the API, so the same checks, masking and audit apply.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from tongban.core.errors import Invalid, NotFound
from tongban.core.i18n import N_, gettext
from tongban.core.ids import Id
from tongban.registry import service
from tongban.web.deps import DbSession
from tongban.web.pages import SignedIn
from tongban.web.templating import render

router = APIRouter(include_in_schema=False)

# Code values shown to people, in their language.
LABELS = {
    "single": N_("Single"), "married": N_("Married"), "divorced": N_("Divorced"), "widowed": N_("Widowed"),
    "head": N_("Head of household"), "spouse": N_("Spouse"), "child": N_("Child"), "parent": N_("Parent"),
    "grandchild": N_("Grandchild"), "sibling": N_("Sibling"), "other": N_("Other relative"),
    "visual": N_("Visual"), "hearing": N_("Hearing"), "speech": N_("Speech"), "physical": N_("Physical"),
    "intellectual": N_("Intellectual"), "mental": N_("Mental"), "multiple": N_("Multiple"),
    "employed": N_("Employed"), "unemployed": N_("Unemployed"), "retired": N_("Retired"),
    "none": N_("Not working"), "unknown": N_("Unknown"),
}


def label(value: object) -> str:
    """A code value (married, head, physical …) in the reader's language."""
    if value is None:
        return "—"
    return gettext(LABELS[str(value)]) if str(value) in LABELS else str(value)


def _render(request: Request, template: str, context: dict[str, object], **kw: object) -> Response:
    return render(request, template, {**context, "label": label}, **kw)  # type: ignore[arg-type]


@router.get("/portal/record")
def my_record_page(request: Request, session: DbSession, principal: SignedIn) -> Response:
    """我要查: your record, your household and your certificates (and your wards')."""
    try:
        person = service.my_record(session, principal=principal)
    except NotFound:
        person = None
    household = None
    wallet: list[dict[str, object]] = []
    if person is not None:
        try:
            household = service.my_household(session, principal=principal)
        except NotFound:
            household = None
        wallet = service.my_wallet(session, principal=principal)
    return _render(request, "registry/my_record.html", {"person": person, "household": household,
                                                       "wallet": wallet})


@router.get("/workbench/persons")
def search_page(request: Request, principal: SignedIn) -> Response:
    from tongban.core.access import require

    require(principal, "person.read")
    return _render(request, "registry/search.html", {"results": None, "form": {}, "error": None})


@router.post("/workbench/persons")
def search_submit(
    request: Request, session: DbSession, principal: SignedIn,
    id_number: str = Form(""), name: str = Form(""), birth_date: str = Form(""), road: str = Form(""),
    number: str = Form(""),
) -> Response:
    """Search by the criteria in the form body (never in the URL)."""
    form = {"name": name, "birth_date": birth_date, "road": road, "number": number}
    try:
        born = dt.date.fromisoformat(birth_date) if birth_date.strip() else None
    except ValueError:
        return _render(request, "registry/search.html", {"results": None, "form": form,
                                                        "error": Invalid(field="birth_date")}, status_code=422)
    try:
        results = service.search_persons(session, principal=principal, id_number=id_number or None,
                                         name=name or None, birth_date=born, road=road or None,
                                         number=number or None)
    except Invalid as exc:
        return _render(request, "registry/search.html", {"results": None, "form": form, "error": exc},
                      status_code=422)
    return _render(request, "registry/search.html", {"results": results, "form": form, "error": None})


@router.get("/workbench/persons/{person_id}")
def person_page(request: Request, session: DbSession, principal: SignedIn, person_id: Id) -> Response:
    person = service.read_person(session, principal=principal, person_id=person_id)
    return _render(request, "registry/person.html", {"person": person, "error": None})


@router.post("/workbench/persons/{person_id}/unmask")
def person_unmask(request: Request, session: DbSession, principal: SignedIn, person_id: Id,
                  purpose: str = Form("")) -> Response:
    """The full record, for a stated purpose that goes into the audit chain."""
    try:
        person = service.read_person(session, principal=principal, person_id=person_id, purpose=purpose)
    except Invalid as exc:
        person = service.read_person(session, principal=principal, person_id=person_id)
        return _render(request, "registry/person.html", {"person": person, "error": exc}, status_code=422)
    return _render(request, "registry/person.html", {"person": person, "error": None, "purpose": purpose})
