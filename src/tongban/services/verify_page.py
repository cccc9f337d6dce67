"""The public certificate verify page (扫码验证): what a certificate's QR code opens, no login."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tongban.core.keys import keyring_for
from tongban.core.timeutil import today_local
from tongban.services import certificates
from tongban.webkit.deps import DbSession
from tongban.webkit.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/verify")
def verify_by_number_page(request: Request, session: DbSession, number: str | None = None) -> Response:
    """The check by number: a box to type a certificate's number; the answer says only whether it stands."""
    view = None
    if number is not None and number.strip():
        view = certificates.state_by_number(session, keyring=keyring_for(request.app.state.settings), number=number,
                                            today=today_local())
    return render(request, "services/verify.html", {"v": view, "number": number},
                  headers={"X-Robots-Tag": "noindex"})


@router.get("/verify/{ref}")
def verify_page(ref: str, request: Request, session: DbSession, sig: str | None = None) -> Response:
    """Valid, invalid, revoked or expired, with the type, number, issuer and the holder's masked
    name. `ref` is the certificate's opaque public id, or its numeric id on codes printed before."""
    view = certificates.public_view(session, keyring=keyring_for(request.app.state.settings),
                                    ref=ref, sig=sig, today=today_local())
    return render(request, "services/verify.html", {"v": view, "number": None}, headers={"X-Robots-Tag": "noindex"})
