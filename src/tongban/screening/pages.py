"""Screening pages: the workbench's screening page (runs, counts by region with a chart, the
not-enrolled list with explanations, alerts), the printable visit list (上门服务), and the
resident's "you may be entitled to" card and offer page with one-click apply.

They call the same service functions as the API, so the same checks and audit apply."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from tongban.core import access
from tongban.core.errors import Invalid, TongbanError
from tongban.core.i18n import N_, gettext, pick
from tongban.core.ids import Id
from tongban.screening import alerts, offers, runs
from tongban.screening.engine import policy_engine
from tongban.screening.explain import _region_names as explain_regions
from tongban.screening.explain import explain_case
from tongban.screening.models import ScreeningCase
from tongban.webkit.deps import DbSession, SignedIn
from tongban.webkit.templating import render

router = APIRouter(include_in_schema=False)

SEVERITY = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}
STATUS = {"sent": N_("Sent"), "seen": N_("Seen"), "applied": N_("Applied"), "declined": N_("Declined"),
          "expired": N_("Expired"), "open": N_("Open"), "acknowledged": N_("Acknowledged"), "closed": N_("Closed")}


def _label(value: str) -> str:
    return gettext(SEVERITY.get(value) or STATUS.get(value) or value)


def _titles(session: Any) -> dict[str, str]:
    return {pid: pick(p.title) for pid, p in policy_engine().policies(session).items()}


ENGINES = {"polars": N_("Standard engine"), "duckdb": N_("Engine for very large data")}


def _page(request: Request, template: str, context: dict[str, Any], **kw: Any) -> Response:
    return render(request, template, {**context, "label": _label}, **kw)


def _region_names(session: Any, codes: set[str]) -> dict[str, str]:
    """Region codes as the reader names them (西门街道), never the bare code."""
    return {code: pick(names) for code, names in explain_regions(session, {c for c in codes if c}).items()}


# --- workbench -------------------------------------------------------------------------------------


@router.get("/workbench/screening")
def screening_page(request: Request, session: DbSession, principal: SignedIn, run_id: Id | None = None,
                   error: str | None = None) -> Response:
    """筛查: the latest run (or `run_id`), its counts by street, the not-enrolled, and the alerts."""
    access.require(principal, "person.read")
    listed = runs.list_runs(session, principal=principal)
    run = runs.get_run(session, principal=principal, run_id=run_id) if run_id else (listed[0] if listed else None)
    titles = _titles(session)
    counts: list[dict[str, Any]] = []
    cases: list[ScreeningCase] = []
    chart: dict[str, Any] = {}
    if run is not None:
        counts = [c for c in runs.counts(session, principal=principal, run=run, level=9)
                  if titles.get(c["policy_id"]) and c["policy_id"] in run.policy_ids]
        cases = list(session.scalars(select(ScreeningCase).where(
            ScreeningCase.run_id == run.id, access.scope(principal, region=ScreeningCase.region_code))
            .order_by(ScreeningCase.policy_id, ScreeningCase.id).limit(200)))
        regions = sorted({c["region_name"] or c["region_code"] for c in counts})
        policies = sorted({c["policy_id"] for c in counts if c["eligible"]})
        chart = {"regions": regions, "series": [
            {"name": titles[p], "data": [sum(c["not_enrolled"] for c in counts if c["policy_id"] == p
                                             and (c["region_name"] or c["region_code"]) == r) for r in regions]}
            for p in policies]}
    try:
        worklist = [alerts.alert_dict(session, a) for a in alerts.worklist(session, principal=principal, status=None)
                    if a.status != "closed"]
    except access.Denied:
        worklist = []
    region_names = _region_names(session, {c.region_code for c in cases} | {a["region_code"] for a in worklist})
    return _page(request, "screening/workbench.html", {
        "runs": listed, "run": run, "counts": [c for c in counts if c["eligible"]], "cases": cases,
        "titles": titles, "chart": chart, "alerts": worklist, "regions": region_names,
        "engines": {k: gettext(v) for k, v in ENGINES.items()}, "error": error})


@router.get("/workbench/screening/runs/{run_id}/compare")
def compare_page(request: Request, session: DbSession, principal: SignedIn, run_id: Id) -> Response:
    """退出复核: who is newly eligible since the previous run, and who no longer is (those still
    enrolled first: their benefit is to be reviewed)."""
    access.require(principal, "person.read")
    run = runs.get_run(session, principal=principal, run_id=run_id)
    found = runs.compare(session, principal=principal, var_dir=request.app.state.settings.var_dir, run=run)
    codes = {r["region_code"] for rows in found.values() for r in rows}
    return _page(request, "screening/compare.html", {
        "run": run, "found": found, "titles": _titles(session), "regions": _region_names(session, codes)})


@router.post("/workbench/screening/runs")
def start_run_page(request: Request, session: DbSession, principal: SignedIn, as_of: str = Form(""),
                   backend: str = Form("polars")) -> Response:
    try:
        run = runs.screen(session, principal=principal, var_dir=request.app.state.settings.var_dir,
                          req=runs.RunRequest(backend=backend, as_of=runs.parse_date(as_of)))
    except Invalid as exc:
        return screening_page(request, session, principal, error=f"{exc.field}: {gettext(exc.message)}")
    return RedirectResponse(f"/workbench/screening?run_id={run.id}", status_code=303)


@router.get("/workbench/screening/explain")
def explain_page(request: Request, session: DbSession, principal: SignedIn, person_id: Id, policy: str,
                 run_id: Id | None = None) -> Response:
    access.require(principal, "person.read")  # a staff page: a resident's own reasons are on the offer page
    found = explain_case(session, principal=principal, var_dir=request.app.state.settings.var_dir,
                         person_id=person_id, policy_id=policy, run_id=run_id)
    return _page(request, "screening/explain.html", {"ex": found, "title": pick(found["policy_title"])})


@router.post("/workbench/screening/alerts/{alert_id}/{action}")
def alert_action_page(request: Request, session: DbSession, principal: SignedIn, alert_id: Id, action: str,
                      version: int = Form(...), note: str = Form("")) -> Response:
    alerts.act(session, principal=principal, alert_id=alert_id, action=action, version=version, note=note)
    return RedirectResponse("/workbench/screening#alerts", status_code=303)


@router.get("/workbench/screening/visits")
def visits_page(request: Request, session: DbSession, principal: SignedIn, region: str | None = None) -> Response:
    """上门服务: the printable visit list of the worker's community."""
    rows = offers.visit_list(session, principal=principal, region_code=region)
    return _page(request, "screening/visits.html", {"rows": rows, "titles": _titles(session),
                                                    "region": region or principal.region_code})


@router.post("/workbench/screening/visits/{offer_id}")
def visit_outcome_page(request: Request, session: DbSession, principal: SignedIn, offer_id: Id,
                       outcome: str = Form(...)) -> Response:
    offers.record_visit(session, principal=principal, offer_id=offer_id, outcome=outcome)
    return RedirectResponse("/workbench/screening/visits", status_code=303)


# --- portal ---------------------------------------------------------------------------------------


@router.get("/portal/entitlements/card")
def entitled_card(request: Request, session: DbSession, principal: SignedIn) -> Response:
    """你可能可以享受: the card the portal page loads (a fragment)."""
    mine, _ = offers.my_offers(session, principal=principal)  # the newest open offers
    return _page(request, "screening/_entitled_card.html", {"offers": mine, "titles": _titles(session)})


@router.get("/portal/offers/{offer_id}")
def offer_page(request: Request, session: DbSession, principal: SignedIn, offer_id: Id) -> Response:
    """An offer: why you may be entitled (your own data), and one click to apply."""
    offer = offers.see(session, principal=principal, offer_id=offer_id)
    try:
        ex = explain_case(session, principal=principal, var_dir=request.app.state.settings.var_dir,
                          person_id=offer.person_id, policy_id=offer.policy_id)
    except TongbanError:
        ex = None
    return _page(request, "screening/offer.html", {"offer": offer, "ex": ex, "title": _titles(session).get(
        offer.policy_id, offer.policy_id), "opened": None})


@router.post("/portal/offers/{offer_id}/accept")
def offer_accept_page(request: Request, session: DbSession, principal: SignedIn, offer_id: Id,
                      consent: str = Form("")) -> Response:
    """申请: open the offered one-thing's or item's own form — labelled, checked field by field and
    prefilled when the resident ticked the consent box — where they check and submit."""
    opened = offers.accept(session, principal=principal, offer_id=offer_id, consent=consent == "yes")
    base = (f"/portal/apply/{opened['target_id']}/form" if opened["kind"] == "onething"
            else f"/portal/items/{opened['target_id']}/form")
    query = f"?consent_id={opened['consent_id']}" if opened["consent_id"] else ""
    return RedirectResponse(base + query, status_code=303)


@router.post("/portal/offers/{offer_id}/decline")
def offer_decline_page(request: Request, session: DbSession, principal: SignedIn, offer_id: Id) -> Response:
    offers.decline(session, principal=principal, offer_id=offer_id)
    return RedirectResponse("/portal", status_code=303)


