"""Governance API: quality rules, runs, issues with their transitions and scores
(/api/v1/quality/…); open data (/api/v1/open/…); the DCAT-AP catalog export (/api/v1/catalog/dcat.*)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tongban.core.i18n import pick
from tongban.core.ids import Id
from tongban.core.text import FreeText
from tongban.datahub.catalog import get_dataset
from tongban.governance import quality
from tongban.governance.models import QualityIssue, QualityRule, QualityRun
from tongban.webkit.deps import CurrentPrincipal, DbSession
from tongban.webkit.schemas import Page, refusals

router = APIRouter(tags=["governance"])


class RuleOut(BaseModel):
    id: str
    dataset_id: str
    kind: str
    severity: str
    description: str
    definition: dict[str, Any]

    @classmethod
    def of(cls, r: QualityRule) -> RuleOut:
        return cls(id=r.id, dataset_id=r.dataset_id, kind=r.kind, severity=r.severity,
                   description=pick({"zh": r.description_zh, "en": r.description_en}), definition=r.definition)


class RunIn(BaseModel):
    dataset_id: str | None = Field(None, max_length=64)


class ResultOut(BaseModel):
    rule_id: str
    dataset_id: str
    checked: int
    failed: int


class RunOut(BaseModel):
    id: int
    dataset_id: str | None
    status: str
    rules: int
    failed_rules: int
    seconds: float | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    results: list[ResultOut] = []

    @classmethod
    def of(cls, r: QualityRun, results: list[Any] | None = None) -> RunOut:
        return cls(id=r.id, dataset_id=r.dataset_id, status=r.status, rules=r.rules, failed_rules=r.failed_rules,
                   seconds=r.seconds, created_at=r.created_at, finished_at=r.finished_at,
                   results=[ResultOut(rule_id=x.rule_id, dataset_id=x.dataset_id, checked=x.checked, failed=x.failed)
                            for x in results or []])


class IssueOut(BaseModel):
    id: int
    rule_id: str
    dataset_id: str
    department_id: str
    status: Literal["reported", "rectifying", "verifying", "closed"]
    checked: int
    failed: int
    samples: list[dict[str, Any]] = Field(description="A few failing rows, masked by the catalog's grades.")
    plan: str | None
    verifications: int
    opened_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None

    @classmethod
    def of(cls, i: QualityIssue) -> IssueOut:
        return cls(id=i.id, rule_id=i.rule_id, dataset_id=i.dataset_id, department_id=i.department_id,
                   status=i.status, checked=i.checked, failed=i.failed, samples=i.samples, plan=i.plan,  # type: ignore[arg-type]
                   verifications=i.verifications, opened_at=i.opened_at, updated_at=i.updated_at,
                   closed_at=i.closed_at)


class TransitionIn(BaseModel):
    action: Literal["acknowledge", "submit", "verify"] = Field(description="acknowledge (反馈 → 整改, with a plan) | submit (整改 → 核验) | "
                                    "verify (核验: re-check the rule; closed if it passes, else back to 整改)")
    plan: FreeText | None = Field(None, max_length=2000)


class ScorePointOut(BaseModel):
    at: dt.datetime
    score: float
    run_id: int


class ScoresOut(BaseModel):
    dataset_id: str
    latest: float | None
    history: list[ScorePointOut]


@router.get("/quality/rules", response_model=Page[RuleOut])
def rules(session: DbSession, principal: CurrentPrincipal, dataset_id: str | None = None) -> Page[RuleOut]:
    return Page(items=[RuleOut.of(r) for r in quality.list_rules(session, principal=principal, dataset_id=dataset_id)])


@router.get("/quality/rules/{rule_id}", response_model=RuleOut)
def rule(rule_id: str, session: DbSession, principal: CurrentPrincipal) -> RuleOut:
    return RuleOut.of(quality.get_rule(session, rule_id, principal=principal))


@router.post("/quality/runs", response_model=RunOut, status_code=202)
def start_run(body: RunIn, session: DbSession, principal: CurrentPrincipal) -> RunOut:
    """Queue a run of the quality rules (all, or one dataset's); a worker runs it as a job."""
    run, _job = quality.start_run(session, actor=principal.actor, dataset_id=body.dataset_id, principal=principal)
    return RunOut.of(run)


@router.get("/quality/runs/{run_id}", response_model=RunOut)
def get_run(run_id: Id, session: DbSession, principal: CurrentPrincipal) -> RunOut:
    run, results = quality.get_run(session, principal=principal, run_id=run_id)
    return RunOut.of(run, results)


@router.get("/quality/issues", response_model=Page[IssueOut])
def issues(session: DbSession, principal: CurrentPrincipal, status: str | None = None,
           dataset_id: str | None = None) -> Page[IssueOut]:
    """Quality issues (问题数据): your department's, or every department's for quality officers."""
    found = quality.list_issues(session, principal=principal, status=status, dataset_id=dataset_id)
    return Page(items=[IssueOut.of(i) for i in found])


@router.get("/quality/issues/{issue_id}", response_model=IssueOut)
def issue(issue_id: Id, session: DbSession, principal: CurrentPrincipal) -> IssueOut:
    return IssueOut.of(quality.get_issue(session, principal=principal, issue_id=issue_id))


@router.post("/quality/issues/{issue_id}/transitions", response_model=IssueOut, responses=refusals({
    422: "`acknowledge` needs a `plan` of at least 4 characters",
    409: "The issue is not in the state the action moves it from"}))
def transition(issue_id: Id, body: TransitionIn, session: DbSession, principal: CurrentPrincipal) -> IssueOut:
    """One step of 反馈 → 整改 → 核验 → closed; an illegal step is 409."""
    return IssueOut.of(quality.transition(session, principal=principal, issue_id=issue_id, action=body.action,
                                          plan=body.plan))


@router.get("/quality/scores/{dataset_id}", response_model=ScoresOut)
def scores(dataset_id: str, session: DbSession, principal: CurrentPrincipal) -> ScoresOut:
    """A dataset's quality score after each run (0–100: rows passing, weighted by rule severity)."""
    from tongban.datahub.catalog import search

    search(session, principal=principal)  # the catalog's access rule: signed-in staff and clients
    ds = get_dataset(session, dataset_id)
    history = quality.score_history(session, ds.id)
    return ScoresOut(dataset_id=ds.id, latest=history[-1].score if history else None,
                     history=[ScorePointOut(at=p.at, score=p.score, run_id=p.run_id) for p in history])



# --- open data (开放域) -------------------------------------------------------------------------


class OpenFieldOut(BaseModel):
    name: str
    title: str
    type: str
    masked: bool


class OpenDatasetOut(BaseModel):
    id: str
    title: str
    description: str
    owner_department_id: str
    opening_type: Literal["open", "restricted"]
    update_frequency: str
    formats: list[str]
    downloads: dict[str, str] = Field(description="Download links by format (无条件开放 only; 受限开放 after approval).")
    fields: list[OpenFieldOut]


def open_dataset_out(session: Any, ds: Any) -> OpenDatasetOut:
    from tongban.governance import opendata

    fields = [OpenFieldOut(name=f.name, title=pick({"zh": f.title_zh, "en": f.title_en}), type=f.type,
                           masked=f.grade == 3) for f in opendata.released_fields(session, ds)]
    return OpenDatasetOut(
        id=ds.id, title=pick({"zh": ds.title_zh, "en": ds.title_en}),
        description=pick({"zh": ds.description_zh, "en": ds.description_en}),
        owner_department_id=ds.owner_department_id, opening_type=ds.opening_type,
        update_frequency=ds.update_frequency, formats=list(opendata.FORMATS),
        downloads={fmt: f"/open/datasets/{ds.id}.{fmt}" for fmt in opendata.FORMATS}, fields=fields)


class ApplicationIn(BaseModel):
    dataset_id: str = Field(max_length=64)
    purpose: FreeText = Field(max_length=500)
    organisation: FreeText | None = Field(None, max_length=200)
    accept_terms: bool = False


class ApplicationOut(BaseModel):
    id: int
    dataset_id: str
    organisation: str | None
    purpose: str
    terms_version: str
    status: str
    decision_reason: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None
    valid_to: dt.datetime | None

    @classmethod
    def of(cls, a: Any) -> ApplicationOut:
        return cls(id=a.id, dataset_id=a.dataset_id, organisation=a.organisation, purpose=a.purpose,
                   terms_version=a.terms_version, status=a.status, decision_reason=a.decision_reason,
                   created_at=a.created_at, decided_at=a.decided_at, valid_to=a.valid_to)


class DecisionIn(BaseModel):
    decision: Literal["approve", "reject"]
    reason: FreeText = Field(max_length=500)


@router.get("/open/datasets", response_model=Page[OpenDatasetOut])
def open_datasets(session: DbSession) -> Page[OpenDatasetOut]:
    """Open data (开放域), no login needed: 无条件开放 and 受限开放 datasets, their formats and fields."""
    from tongban.governance import opendata

    return Page(items=[open_dataset_out(session, ds) for ds in opendata.public_datasets(session)])


@router.get("/open/datasets/{dataset_id}.{fmt}")
def open_download(dataset_id: str, fmt: str, session: DbSession, principal: CurrentPrincipal) -> Response:
    """Download a dataset: 无条件开放 without login; 受限开放 with an approved application (audited)."""
    return download_response(session, principal, dataset_id, fmt)


def download_response(session: Any, principal: Any, dataset_id: str, fmt: str) -> Response:
    from tongban.governance import opendata

    d = opendata.download(session, principal=principal, dataset_id=dataset_id, fmt=fmt)
    return Response(d.content, media_type=d.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{d.filename}"',
                             "X-Rows": str(d.rows)})


@router.post("/open/applications", response_model=ApplicationOut, status_code=201)
def open_apply(body: ApplicationIn, session: DbSession, principal: CurrentPrincipal) -> ApplicationOut:
    """Apply for a 受限开放 dataset, accepting the terms of use; the owner department decides."""
    from tongban.governance import opendata

    return ApplicationOut.of(opendata.apply(session, principal=principal, **body.model_dump()))


@router.get("/open/applications", response_model=Page[ApplicationOut])
def open_applications(session: DbSession, principal: CurrentPrincipal, pending: bool = False) -> Page[ApplicationOut]:
    """Your applications; for data stewards, the applications for your department's datasets."""
    from tongban.governance import opendata

    return Page(items=[ApplicationOut.of(a) for a in
                       opendata.applications_for(session, principal=principal, pending_only=pending)])


@router.post("/open/applications/{application_id}/decision", response_model=ApplicationOut)
def open_decide(application_id: Id, body: DecisionIn, session: DbSession,
                principal: CurrentPrincipal) -> ApplicationOut:
    from tongban.governance import opendata

    return ApplicationOut.of(opendata.decide(session, principal=principal, application_id=application_id,
                                             approve=body.decision == "approve", reason=body.reason))


# --- DCAT-AP catalog export ---------------------------------------------------------------------


def _dcat_scope(principal: Any, scope: str) -> bool:
    """public → True; internal (禁止开放 included) needs a signed-in member of government."""
    from tongban.core import access

    if scope == "internal":
        access.require_government(principal, action="catalog.internal")
        return False
    return True


@router.get("/catalog/dcat.jsonld", responses={200: {
    "description": "The catalog as DCAT-AP JSON-LD", "content": {"application/ld+json": {"schema": {"type": "object"}}}}})
def dcat_jsonld(request: Request, session: DbSession, principal: CurrentPrincipal,
                scope: Literal["public", "internal"] = "public") -> Response:
    """The catalog as DCAT-AP JSON-LD (context inlined). `scope=internal` adds 禁止开放 datasets (staff)."""
    from tongban.governance import dcat

    public = _dcat_scope(principal, scope)
    return Response(dcat.jsonld(session, base=_base(request), public=public), media_type="application/ld+json")


@router.get("/catalog/dcat.csv", responses={200: {
    "description": "The catalog as CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}})
def dcat_csv(request: Request, session: DbSession, principal: CurrentPrincipal,
             scope: Literal["public", "internal"] = "public") -> Response:
    """The catalog's DCAT-AP entries as CSV, one dataset a row."""
    from tongban.governance import dcat

    public = _dcat_scope(principal, scope)
    return Response(dcat.csv_text(session, base=_base(request), public=public), media_type="text/csv; charset=utf-8")


def _base(request: Request) -> str:
    base: str = request.app.state.settings.public_base()  # IRIs stay the same whatever host was asked
    return base
