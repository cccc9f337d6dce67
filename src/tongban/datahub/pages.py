"""Data hub pages: the catalog for staff; consents and "who used my data" for residents."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tongban.core.errors import NotFound
from tongban.core.ids import Id
from tongban.datahub import catalog, consent
from tongban.datahub import scores as quality
from tongban.webkit.deps import DbSession, SignedIn
from tongban.webkit.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/workbench/catalog")
def catalog_page(request: Request, session: DbSession, principal: SignedIn, q: str | None = None) -> Response:
    """The catalog (目录): what each department holds, its grades and sharing terms."""
    from tongban.core.timeutil import local

    rows = catalog.search(session, principal=principal, q=q)
    scores = quality.latest(session, [d.id for d in rows])
    datasets = []
    for d in rows:
        entry = catalog.dataset_dict(session, d)
        entry["quality_score"] = scores.get(d.id)
        entry["quality_history"] = [[f"{local(at):%m-%d %H:%M}", score] for at, score in quality.history(session, d.id)]
        datasets.append(entry)
    return render(request, "datahub/catalog.html", {"q": q or "", "datasets": datasets})


@router.get("/portal/data")
def my_data_page(request: Request, session: DbSession, principal: SignedIn, consents_cursor: str | None = None,
                 uses_cursor: str | None = None) -> Response:
    """My consents (授权) and who used my data (谁查看了我的数据), each a page at a time."""
    consents_next = uses_next = None
    try:
        rows, consents_next = consent.mine(session, principal=principal, cursor=consents_cursor)
        consents = [consent.consent_dict(c) for c in rows]
        uses, uses_next = consent.data_uses(session, principal=principal, cursor=uses_cursor)
    except NotFound:
        consents, uses = [], []
    return render(request, "datahub/my_data.html", {"consents": consents, "uses": uses,
                                                    "consents_next": consents_next, "uses_next": uses_next})


@router.post("/portal/data/consents/{consent_id}/withdraw")
def withdraw_page(request: Request, session: DbSession, principal: SignedIn, consent_id: Id) -> Response:
    consent.withdraw(session, principal=principal, consent_id=consent_id)
    return RedirectResponse("/portal/data", status_code=303)
