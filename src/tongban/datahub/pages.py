"""Data hub pages: the catalog for staff; consents and "who used my data" for residents."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import slices
from tongban.core.errors import NotFound
from tongban.core.i18n import N_, gettext, pick
from tongban.core.ids import Id
from tongban.datahub import catalog, consent
from tongban.datahub import scores as quality
from tongban.datahub.models import Dataset
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
    return render(request, "datahub/catalog.html", {
        "q": q or "", "datasets": datasets, "departments": catalog.department_names(session),
        "frequencies": {k: gettext(v) for k, v in catalog.UPDATE_FREQUENCIES.items()}})


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
    names = _names(session)
    purposes = {key: gettext(text) for key, text in PURPOSES.items()}
    for c in consents:
        c["who"] = names["dept"].get(c["department_id"] or "") or _scope_title(session, c["scope"]) or gettext(
            N_("A consent you gave"))
        c["what"] = names["dataset"].get(c["dataset_id"] or "")
        c["why"] = purposes[PREFILL] if c["scope"] else c["purpose"]
    for u in uses:
        u["who"] = names["dept"].get(u["department_id"] or "") or (
            gettext(N_("You, prefilling your own form")) if (u["purpose"] or "").startswith("prefill")
            else gettext(N_("Not recorded")))
        u["what"] = names["dataset"].get(u["what"] or "") or (gettext(N_("Population register"))
                                                               if u["what"] == "registry" else "")
        u["why"] = purposes.get(u["purpose"] or "") or (u["purpose"] or "")
    return render(request, "datahub/my_data.html", {"consents": consents, "uses": uses,
                                                    "consents_next": consents_next, "uses_next": uses_next})


# Purposes the platform itself records, in words (staff type theirs in their own words).
PREFILL = "prefill"
PURPOSES = {PREFILL: N_("To fill in your application form for you, with your consent")}


def _names(session: Session) -> dict[str, dict[str, str]]:
    """Departments and datasets by id, in the reader's language: pages never show the raw ids."""
    return {"dept": catalog.department_names(session),
            "dataset": {d: pick({"zh": zh, "en": en}) for d, zh, en in session.execute(
                select(Dataset.id, Dataset.title_zh, Dataset.title_en))}}


def _scope_title(session: Session, scope: str | None) -> str | None:
    """What a scoped consent was for (a one-thing's title), from the slice that owns the scope."""
    if not scope:
        return None
    for title_of in slices.contributed("datahub.scope_titles"):
        title: Any = title_of(session, scope)
        if title:
            return str(title)
    return None


@router.post("/portal/data/consents/{consent_id}/withdraw")
def withdraw_page(request: Request, session: DbSession, principal: SignedIn, consent_id: Id) -> Response:
    consent.withdraw(session, principal=principal, consent_id=consent_id)
    return RedirectResponse("/portal/data", status_code=303)
