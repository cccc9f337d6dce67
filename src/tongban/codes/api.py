"""Codes API (/api/v1/codes/…): types, scan (public), issue and revoke (the issuing department)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tongban.codes import service
from tongban.core.i18n import pick
from tongban.core.ids import Id
from tongban.core.keys import keyring_for
from tongban.core.paging import DEFAULT_LIMIT, Limit
from tongban.core.text import FreeText
from tongban.webkit.deps import CurrentPrincipal, DbSession
from tongban.webkit.schemas import Page, refusals

router = APIRouter(tags=["codes"])

CodeText = Annotated[str, Path(min_length=10, max_length=400)]


@router.get("/codes/types")
def types(session: DbSession) -> list[dict[str, Any]]:
    """The code types loaded from packs (public: what a code can be)."""
    return [{"id": ct.id, "family": pick({"zh": ct.family_zh, "en": ct.family_en}),
             "title": pick({"zh": ct.title_zh, "en": ct.title_en}), "issuer": ct.issuer_department_id,
             "dataset": ct.dataset_id, "card": ct.definition["card"]} for ct in service.code_types(session)]


@router.get("/codes/scan/{code}")
def scan(code: CodeText, request: Request, session: DbSession) -> dict[str, Any]:
    """What scanning a code shows (anyone): `state` valid / revoked / invalid, the colour and its
    reason, the type, issuer and the subject's public card. An invalid code says only why."""
    return service.scan_out(service.scan(session, keyring=keyring_for(request.app.state.settings), code=code))


class IssueIn(BaseModel):
    type: str = Field(min_length=1, max_length=64)
    subject_id: Id


@router.post("/codes", status_code=201, responses=refusals({
    422: "A `type` that is not a loaded code type, or a subject it cannot be issued for"}))
def issue(body: IssueIn, request: Request, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """Issue the code of one subject (staff of the type's issuing department). Bulk: `tongban codes issue`."""
    row = service.issue_one(session, keyring=keyring_for(request.app.state.settings), principal=principal,
                            type_id=body.type, subject_id=body.subject_id)
    return service.code_dict(row)


@router.get("/codes", response_model=Page[dict[str, Any]])
def list_codes(session: DbSession, principal: CurrentPrincipal, type: str | None = None,
               limit: Limit = DEFAULT_LIMIT, cursor: str | None = None) -> Page[dict[str, Any]]:
    """The codes your department issued, newest first."""
    rows, next_cursor = service.department_codes(session, principal=principal, type_id=type, limit=limit,
                                                 cursor=cursor)
    return Page(items=[service.code_dict(r) for r in rows], next_cursor=next_cursor)


class RevokeIn(BaseModel):
    reason: FreeText = Field(max_length=500)


@router.post("/codes/{code_id}/revoke", responses=refusals({422: "A reason that is blank once trimmed"}))
def revoke(code_id: Id, body: RevokeIn, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """Revoke a code (staff of the issuing department), with the reason every scan then shows.
    It is published in the signed revocation list (GET /api/v1/certificates/revocations)."""
    return service.code_dict(service.revoke(session, principal=principal, code_id=code_id, reason=body.reason))


@router.get("/codes/qr/{code}.{kind}", responses=refusals({422: "A `code` that cannot be read as a code"}))
def qr(code: CodeText, kind: Literal["svg", "png"], request: Request) -> Response:
    """The QR code of a code's scan page, SVG or PNG, made on request (anyone holding the code)."""
    from tongban.codes import token

    try:
        token.parse(code)
    except token.BadCode:
        from tongban.core.errors import Invalid
        from tongban.core.i18n import N_

        raise Invalid(N_("This is not a code"), field="code") from None
    url = request.app.state.settings.public_base(str(request.base_url)) + f"/c/{code}"
    return Response(service.qr(url, kind), media_type="image/svg+xml" if kind == "svg" else "image/png",
                    headers={"Cache-Control": "public, max-age=86400"})
