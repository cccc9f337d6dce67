"""The workbench's person search and view: the data hub serves staff reads of persons, with the
same checks, masking and audit as the API (`datahub.persons`)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from tongban.core.errors import Invalid
from tongban.core.ids import Id
from tongban.datahub import persons
from tongban.registry.pages import label
from tongban.webkit.deps import DbSession, SignedIn
from tongban.webkit.templating import render

router = APIRouter(include_in_schema=False)


def _render(request: Request, template: str, context: dict[str, object], **kw: object) -> Response:
    return render(request, template, {**context, "label": label}, **kw)  # type: ignore[arg-type]


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
    from tongban.core.access import require

    require(principal, "person.read")  # the hub's search page (a lookup-only `person.find` has none)
    form = {"name": name, "birth_date": birth_date, "road": road, "number": number}
    try:
        born = dt.date.fromisoformat(birth_date) if birth_date.strip() else None
    except ValueError:
        return _render(request, "registry/search.html", {"results": None, "form": form,
                                                        "error": Invalid(field="birth_date")}, status_code=422)
    try:
        results = persons.search_persons(session, principal=principal, id_number=id_number or None,
                                         name=name or None, birth_date=born, road=road or None,
                                         number=number or None)
    except Invalid as exc:
        return _render(request, "registry/search.html", {"results": None, "form": form, "error": exc},
                      status_code=422)
    return _render(request, "registry/search.html", {"results": results, "form": form, "error": None})


@router.get("/workbench/persons/{person_id}")
def person_page(request: Request, session: DbSession, principal: SignedIn, person_id: Id) -> Response:
    person = persons.read_person(session, principal=principal, person_id=person_id)
    return _render(request, "registry/person.html", {"person": person, "error": None})


@router.post("/workbench/persons/{person_id}/unmask")
def person_unmask(request: Request, session: DbSession, principal: SignedIn, person_id: Id,
                  purpose: str = Form("")) -> Response:
    """The full record, for a stated purpose that goes into the audit chain."""
    try:
        person = persons.read_person(session, principal=principal, person_id=person_id, purpose=purpose)
    except Invalid as exc:
        person = persons.read_person(session, principal=principal, person_id=person_id)
        return _render(request, "registry/person.html", {"person": person, "error": exc}, status_code=422)
    return _render(request, "registry/person.html", {"person": person, "error": None, "purpose": purpose})
