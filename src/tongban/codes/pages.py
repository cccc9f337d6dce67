"""Codes pages: the public scan page `/c/{code}` (phone-first, no login) and the issuing
department's workbench (`/workbench/codes`: its codes, issue one, revoke with a reason)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tongban.codes import service
from tongban.core import access
from tongban.core.errors import TongbanError
from tongban.core.i18n import pick
from tongban.core.ids import Id
from tongban.core.keys import keyring_for
from tongban.core.paging import decode_cursor
from tongban.webkit.deps import DbSession, SignedIn
from tongban.webkit.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/c/{code}")
def scan_page(code: str, request: Request, session: DbSession) -> Response:
    """扫码: the code's type, issuer, the subject's public card and the colour with its reason."""
    view = service.scan(session, keyring=keyring_for(request.app.state.settings), code=code[:service.token.MAX_CODE + 1])
    return render(request, "codes/scan.html", {"v": service.scan_out(view), "code": code},
                  headers={"X-Robots-Tag": "noindex", "Cache-Control": "no-store"})


@router.get("/workbench/codes")
def workbench(request: Request, session: DbSession, principal: SignedIn, type: str | None = None,
              cursor: str | None = None, error: str | None = None) -> Response:
    """码管理: the codes the department issued, with issue and revoke."""
    decode_cursor(cursor)  # a malformed cursor is a 422 naming it
    rows, next_cursor = service.department_codes(session, principal=principal, type_id=type or None, limit=50,
                                                 cursor=cursor)
    every = service.code_types(session)
    types = [t for t in every if access.can_act_for_department(principal, t.issuer_department_id)]
    titles = {t.id: pick({"zh": t.title_zh, "en": t.title_en}) for t in every}
    return render(request, "codes/workbench.html", {
        "codes": [service.code_dict(r) for r in rows], "next_cursor": next_cursor, "types": types, "titles": titles,
        "type": type or "", "error": error})


def _back(request: Request, session: DbSession, principal: SignedIn, exc: TongbanError) -> Response:
    session.rollback()
    msg = exc.translated()
    return workbench(request, session, principal, error=msg)


@router.post("/workbench/codes")
def issue_form(request: Request, session: DbSession, principal: SignedIn, type: Annotated[str, Form()] = "",
               subject_id: Annotated[str, Form()] = "") -> Response:
    if not subject_id.isdigit() or not 1 <= int(subject_id) < 2**63:
        from tongban.core.errors import Invalid
        from tongban.core.i18n import N_

        return _back(request, session, principal, Invalid(N_("Give the subject's record id"), field="subject_id"))
    try:
        service.issue_one(session, keyring=keyring_for(request.app.state.settings), principal=principal,
                          type_id=type, subject_id=int(subject_id))
    except TongbanError as exc:
        return _back(request, session, principal, exc)
    return RedirectResponse("/workbench/codes", status_code=303)


@router.post("/workbench/codes/{code_id}/revoke")
def revoke_form(request: Request, session: DbSession, principal: SignedIn, code_id: Id,
                reason: Annotated[str, Form()] = "") -> Response:
    try:
        service.revoke(session, principal=principal, code_id=code_id, reason=reason)
    except TongbanError as exc:
        return _back(request, session, principal, exc)
    return RedirectResponse(f"/workbench/codes#code-{code_id}", status_code=303)
