"""Governance pages: the department's quality issues (workbench), the public open-data page and
its downloads (no login for 无条件开放)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tongban.core.i18n import N_, gettext, pick
from tongban.core.ids import Id
from tongban.datahub import catalog
from tongban.governance import opendata, quality
from tongban.governance.api import download_response, open_dataset_out
from tongban.governance.models import QualityRule
from tongban.webkit.deps import DbSession, PagePrincipal, SignedIn
from tongban.webkit.templating import render

router = APIRouter(include_in_schema=False)

STATUSES = {"reported": N_("Reported (反馈)"), "rectifying": N_("Rectifying (整改)"),
            "verifying": N_("Waiting for verification (核验)"), "closed": N_("Closed")}


@router.get("/workbench/quality")
def quality_page(request: Request, session: DbSession, principal: SignedIn, status: str = "open") -> Response:
    """问题数据: the department's quality issues and the next step of each."""
    status = status if status in ("open", "closed") else "open"
    issues = quality.list_issues(session, principal=principal, status=status)
    rules = {r.id: r for r in session.query(QualityRule).filter(QualityRule.id.in_({i.rule_id for i in issues}))}
    shown = []
    for i in issues:
        r = rules.get(i.rule_id)
        shown.append({"id": i.id, "rule_id": i.rule_id, "dataset_id": i.dataset_id, "department_id": i.department_id,
                      "status": i.status, "checked": i.checked, "failed": i.failed, "samples": i.samples,
                      "plan": i.plan,
                      "rule_description": pick({"zh": r.description_zh, "en": r.description_en}) if r else i.rule_id})
    return render(request, "governance/quality.html", {
        "issues": shown, "status": status, "statuses": {k: gettext(v) for k, v in STATUSES.items()}})


@router.post("/workbench/quality/{issue_id}/{action}")
def quality_action(request: Request, session: DbSession, principal: SignedIn, issue_id: Id, action: str,
                   plan: Annotated[str | None, Form()] = None) -> Response:
    quality.transition(session, principal=principal, issue_id=issue_id, action=action, plan=plan)
    return RedirectResponse(f"/workbench/quality#issue-{issue_id}", status_code=303)


@router.get("/open")
def open_page(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    """开放域: what can be had, in which formats, with download links; no login needed."""
    datasets = [open_dataset_out(session, ds).model_dump() for ds in opendata.public_datasets(session)]
    approved: set[str] = set()
    if principal.has("open.apply"):
        approved = {a.dataset_id for a in opendata.applications_for(session, principal=principal)
                    if a.status == "approved"}
    sent = request.query_params.get("applied")
    return render(request, "governance/open.html", {
        "datasets": datasets, "approved": approved, "terms": opendata.TERMS,
        "departments": catalog.department_names(session),
        "frequencies": {k: gettext(v) for k, v in catalog.UPDATE_FREQUENCIES.items()},
        "message": gettext(N_("Your application has been sent to the owning department.")) if sent else None})


@router.post("/open/applications")
def open_apply_form(request: Request, session: DbSession, principal: SignedIn,
                    dataset_id: Annotated[str, Form()], purpose: Annotated[str, Form()] = "",
                    organisation: Annotated[str, Form()] = "", accept_terms: Annotated[str, Form()] = "") -> Response:
    opendata.apply(session, principal=principal, dataset_id=dataset_id, purpose=purpose,
                   organisation=organisation, accept_terms=accept_terms == "1")
    return RedirectResponse("/open?applied=1", status_code=303)


@router.get("/open/datasets/{dataset_id}.{fmt}")
def open_download_page(dataset_id: str, fmt: str, session: DbSession, principal: PagePrincipal) -> Response:
    return download_response(session, principal, dataset_id, fmt)
