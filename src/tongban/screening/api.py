"""Screening API: runs (start, list, counts, comparison), the not-enrolled cases, explanations,
the resident's offers and one-click apply, the community worker's visit list, take-up for the
cockpit, and the risk-alert worklist. Routers stay thin: parse, call the service, shape."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from tongban.core import access, masking, paging
from tongban.core.i18n import pick
from tongban.core.ids import Id, Version
from tongban.core.paging import DEFAULT_LIMIT, Limit
from tongban.core.text import FreeText
from tongban.datahub.exchange import basis_for
from tongban.screening import alerts, offers, runs
from tongban.screening.engine import policy_engine
from tongban.screening.explain import explain_case
from tongban.screening.models import Offer, ScreeningCase, ScreeningRun
from tongban.webkit.deps import CurrentPrincipal, DbSession
from tongban.webkit.schemas import Page, refusals

router = APIRouter(tags=["screening"])


def _var_dir(request: Request) -> Any:
    return request.app.state.settings.var_dir


def run_dict(run: ScreeningRun) -> dict[str, Any]:
    return {"id": run.id, "status": run.status, "as_of": run.as_of, "backend": run.backend,
            "region_code": run.region_code, "policy_ids": run.policy_ids, "pack_id": run.pack_id,
            "pack_version": run.pack_version, "policy_hashes": run.policy_hashes or {},
            "parameters": run.parameters, "snapshot_id": run.snapshot_id,
            "source": run.source or "registry", "previous_run_id": run.previous_run_id, "totals": run.totals, "started_at": run.started_at,
            "finished_at": run.finished_at}


class RunIn(BaseModel):
    policy: list[str] | None = None
    region: str | None = None
    backend: str = "polars"
    as_of: str | None = None


@router.post("/screening/runs", status_code=201, responses=refusals({
    422: "`policy` or `region` names no loaded policy or no region in your reach, `backend` is not one "
         "installed, or `as_of` is not a date"}))
def start_run(body: RunIn, request: Request, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """Run a screening now (staff whose department holds the grant on the person and household views)."""
    access.require(principal, "person.read")
    req = runs.RunRequest(policy_ids=body.policy, region_code=body.region, backend=body.backend,
                          as_of=runs.parse_date(body.as_of))
    return run_dict(runs.screen(session, principal=principal, var_dir=_var_dir(request), req=req))


@router.get("/screening/runs")
def list_runs(session: DbSession, principal: CurrentPrincipal) -> Page[dict[str, Any]]:
    return Page(items=[run_dict(r) for r in runs.list_runs(session, principal=principal)])

# The region levels the services accept (6 county, 9 street, 12 community), in the document too:
# 6–12 in steps of 3 is exactly those three. (A Literal of ints would refuse the query string "12".)
Level = Annotated[int, Query(ge=6, le=12, multiple_of=3, json_schema_extra={"enum": [6, 9, 12]},
                              description="Region level: 6 county, 9 street, 12 community.")]


@router.get("/screening/runs/{run_id}")
def get_run(run_id: Id, session: DbSession, principal: CurrentPrincipal, level: Level = 6) -> dict[str, Any]:
    """A run and its counts per policy and region (level: 6 county, 9 street, 12 community)."""
    run = runs.get_run(session, principal=principal, run_id=run_id)
    return {**run_dict(run), "counts": runs.counts(session, principal=principal, run=run, level=level)}


@router.get("/screening/runs/{run_id}/compare")
def compare(run_id: Id, request: Request, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """Newly eligible and no longer eligible since the previous run (the 退出 review list)."""
    run = runs.get_run(session, principal=principal, run_id=run_id)
    return {"run_id": run.id, "previous_run_id": run.previous_run_id,
            **runs.compare(session, principal=principal, var_dir=_var_dir(request), run=run)}


@router.get("/screening/runs/{run_id}/cases")
def cases(run_id: Id, session: DbSession, principal: CurrentPrincipal, policy: str | None = None,
          limit: Limit = DEFAULT_LIMIT, cursor: str | None = None) -> Page[dict[str, Any]]:
    """The eligible-but-not-enrolled of a run in the caller's region (subjects pseudonymised;
    open a case's explanation for the criteria), in id order, a page at a time (`limit`, `cursor`)."""
    run = runs.get_run(session, principal=principal, run_id=run_id)
    basis_for(session, principal=principal, dataset_id="ds.person", subject_id=None)  # whose records these are
    q = select(ScreeningCase).where(ScreeningCase.run_id == run.id)
    if policy is not None:
        q = q.where(ScreeningCase.policy_id == policy)
    q = q.where(access.scope(principal, region=ScreeningCase.region_code))
    rows, next_cursor = paging.keyset(session, q, ScreeningCase.id, limit=limit, cursor=cursor, newest_first=False)
    return Page(items=[{"id": c.id, "policy_id": c.policy_id, "person_id": c.person_id,
                        "subject": masking.subject("person", c.person_id), "region_code": c.region_code,
                        "criteria": c.criteria, "amount_fen": c.amount_fen, "newly_eligible": c.newly_eligible}
                       for c in rows], next_cursor=next_cursor)


@router.get("/screening/explanations", responses=refusals({
    422: "`policy` names no policy of the loaded packs, or `person_id` no person screened for it"}))
def explanation(person_id: Id, policy: str, request: Request, session: DbSession, principal: CurrentPrincipal,
                run_id: Id | None = None) -> dict[str, Any]:
    """Each criterion met or missed, with the actual value and the threshold in force."""
    return explain_case(session, principal=principal, var_dir=_var_dir(request), person_id=person_id,
                        policy_id=policy, run_id=run_id)


# --- the resident -----------------------------------------------------------------------------------


def offer_dict(o: Offer, titles: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {"id": o.id, "policy_id": o.policy_id, "policy_title": pick(titles.get(o.policy_id)),
            "status": o.status, "channel": o.channel, "apply_via": o.apply_via, "version": o.version,
            "application_id": o.application_id, "created_at": o.created_at, "expires_on": o.expires_on}


def _titles(session: Any) -> dict[str, dict[str, str]]:
    return {pid: p.title for pid, p in policy_engine().policies(session).items()}


@router.get("/me/offers")
def my_offers(session: DbSession, principal: CurrentPrincipal, all: bool = False, limit: Limit = DEFAULT_LIMIT,
              cursor: str | None = None) -> Page[dict[str, Any]]:
    """你可能可以享受: the benefits you were found eligible for and have not applied for (`all`:
    every offer), newest first, a page at a time."""
    rows, next_cursor = offers.my_offers(session, principal=principal, open_only=not all, limit=limit, cursor=cursor)
    titles = _titles(session)
    return Page(items=[offer_dict(o, titles) for o in rows], next_cursor=next_cursor)


@router.post("/me/offers/{offer_id}/seen")
def offer_seen(offer_id: Id, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    return offer_dict(offers.see(session, principal=principal, offer_id=offer_id), _titles(session))


class AcceptIn(BaseModel):
    consent: bool = False


@router.post("/me/offers/{offer_id}/accept")
def offer_accept(offer_id: Id, body: AcceptIn, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """一键申办: what to open (the one-thing's form, prefilled with your consent) and how to submit."""
    return offers.accept(session, principal=principal, offer_id=offer_id, consent=body.consent)


@router.post("/me/offers/{offer_id}/decline")
def offer_decline(offer_id: Id, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    return offer_dict(offers.decline(session, principal=principal, offer_id=offer_id), _titles(session))


# --- community workers and the cockpit -----------------------------------------------------------------


@router.get("/screening/visits")
def visits(session: DbSession, principal: CurrentPrincipal, region: str | None = None) -> Page[dict[str, Any]]:
    """上门服务: people without an account to visit about a benefit, in the worker's community."""
    return Page(items=offers.visit_list(session, principal=principal, region_code=region))


class VisitIn(BaseModel):
    outcome: str


@router.post("/screening/offers/{offer_id}/visit")
def record_visit(offer_id: Id, body: VisitIn, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    return offer_dict(offers.record_visit(session, principal=principal, offer_id=offer_id, outcome=body.outcome),
                      _titles(session))


@router.get("/screening/take-up")
def take_up(session: DbSession, principal: CurrentPrincipal, level: Level = 6) -> Page[dict[str, Any]]:
    """Offers and take-up rate per policy and region, for the cockpit."""
    return Page(items=offers.take_up(session, principal=principal, level=level))


# --- risk alerts -------------------------------------------------------------------------------------


@router.get("/screening/alerts")
def alert_list(session: DbSession, principal: CurrentPrincipal, status: str | None = "open",
               region: str | None = None) -> Page[dict[str, Any]]:
    """返贫风险预警: the worklist, most severe first, each with its explanation."""
    found = alerts.worklist(session, principal=principal, status=status or None, region_code=region)
    return Page(items=[alerts.alert_dict(session, a) for a in found])


class AlertActionIn(BaseModel):
    version: Version | None = None
    note: FreeText | None = None


@router.post("/screening/alerts/{alert_id}/{action}", responses=refusals({
    422: "Closing needs a `note` saying how the alert was handled",
    409: "The alert is not in a state the action applies to, or `version` is stale"}))
def alert_action(alert_id: Id, action: Literal["acknowledge", "close"], body: AlertActionIn, session: DbSession,
                 principal: CurrentPrincipal) -> dict[str, Any]:
    """acknowledge or close an alert (closing says how it was handled)."""
    alert = alerts.act(session, principal=principal, alert_id=alert_id, action=action, version=body.version,
                       note=body.note)
    return alerts.alert_dict(session, alert)


