"""Registry pages: the resident's own record (我要查). The workbench's person search and view are
the data hub's (`datahub.persons_pages`), which decides what staff see of a record."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tongban.core.errors import NotFound
from tongban.core.i18n import N_, gettext
from tongban.registry import service
from tongban.webkit.deps import DbSession, SignedIn
from tongban.webkit.templating import render

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
        wallet, _ = service.my_wallet(session, principal=principal)  # the newest page; all are on /portal/wallet
    return _render(request, "registry/my_record.html", {"person": person, "household": household,
                                                       "wallet": wallet})
