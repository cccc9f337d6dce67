"""Data hub API: catalog, sharing requests and grants, the exchange gateway, consents, data uses."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from tongban.core.ids import Id
from tongban.core.paging import DEFAULT_LIMIT, Limit
from tongban.core.text import FreeText
from tongban.datahub import catalog, consent, exchange, sharing
from tongban.datahub import scores as quality
from tongban.datahub.models import Grant, SharingRequest
from tongban.webkit.deps import CurrentPrincipal, DbSession
from tongban.webkit.schemas import Page, refusals

router = APIRouter(tags=["datahub"])


class DatasetOut(BaseModel):
    id: str
    title: str
    title_i18n: dict[str, str]
    description: str
    owner_department_id: str
    source_system: str
    update_frequency: str
    sharing_type: str
    legal_basis: str | None
    opening_type: str
    version: str
    quality_score: float | None = Field(None, description="Score of the latest quality run (0–100), if any.")
    fields: list[dict[str, Any]] = []


@router.get("/catalog/datasets", response_model=Page[DatasetOut])
def search_catalog(session: DbSession, principal: CurrentPrincipal, q: str | None = None, owner: str | None = None,
                   sharing_type: Literal["unconditional", "conditional", "none"] | None = None) -> Page[DatasetOut]:
    """Search the catalog (目录)."""
    rows = catalog.search(session, principal=principal, q=q, owner=owner, sharing=sharing_type)
    scores = quality.latest(session, [d.id for d in rows])
    return Page(items=[DatasetOut(**catalog.dataset_dict(session, d), quality_score=scores.get(d.id)) for d in rows])


@router.get("/catalog/datasets/{dataset_id}", response_model=DatasetOut)
def get_dataset(dataset_id: str, session: DbSession, principal: CurrentPrincipal) -> DatasetOut:
    catalog.search(session, principal=principal, q=None)  # the same access rule as search
    ds = catalog.get_dataset(session, dataset_id)
    return DatasetOut(**catalog.dataset_dict(session, ds), quality_score=quality.latest(session, [ds.id]).get(ds.id))


class RequestIn(BaseModel):
    dataset_id: str
    fields: list[str]
    clear_fields: list[str] = []
    purpose: FreeText = Field(max_length=500)
    legal_basis: str = Field(max_length=500)
    period_days: int


class RequestOut(BaseModel):
    id: int
    dataset_id: str
    consumer_department_id: str
    fields: list[str]
    clear_fields: list[str]
    purpose: str
    legal_basis: str
    period_days: int
    status: str
    decision_reason: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None
    wait_seconds: int | None

    @classmethod
    def of(cls, r: SharingRequest) -> RequestOut:
        return cls(id=r.id, dataset_id=r.dataset_id, consumer_department_id=r.consumer_department_id,
                   fields=r.fields, clear_fields=r.clear_fields, purpose=r.purpose, legal_basis=r.legal_basis,
                   period_days=r.period_days, status=r.status, decision_reason=r.decision_reason,
                   created_at=r.created_at, decided_at=r.decided_at, wait_seconds=r.wait_seconds)


class DecisionIn(BaseModel):
    decision: Literal["approve", "reject"]
    reason: FreeText = Field(max_length=500)


class GrantOut(BaseModel):
    id: int
    dataset_id: str
    consumer_department_id: str
    fields: list[str]
    clear_fields: list[str]
    purpose: str
    valid_from: dt.datetime
    valid_to: dt.datetime
    revoked_at: dt.datetime | None

    @classmethod
    def of(cls, g: Grant) -> GrantOut:
        return cls(id=g.id, dataset_id=g.dataset_id, consumer_department_id=g.consumer_department_id,
                   fields=g.fields, clear_fields=g.clear_fields, purpose=g.purpose, valid_from=g.valid_from,
                   valid_to=g.valid_to, revoked_at=g.revoked_at)


class RevokeIn(BaseModel):
    reason: FreeText = Field(min_length=1, max_length=500)


@router.post("/catalog/requests", response_model=RequestOut, status_code=201)
def create_request(body: RequestIn, session: DbSession, principal: CurrentPrincipal) -> RequestOut:
    """Ask for fields of a dataset; 无条件共享 is granted at once, 有条件共享 waits for the owner."""
    return RequestOut.of(sharing.request_access(session, principal=principal, **body.model_dump()))


@router.get("/catalog/requests", response_model=Page[RequestOut])
def pending_requests(session: DbSession, principal: CurrentPrincipal) -> Page[RequestOut]:
    """Data stewards: requests for your department's datasets waiting for a decision."""
    return Page(items=[RequestOut.of(r) for r in sharing.pending_for_steward(session, principal=principal)])


@router.post("/catalog/requests/{request_id}/decision", response_model=RequestOut)
def decide_request(request_id: Id, body: DecisionIn, session: DbSession, principal: CurrentPrincipal) -> RequestOut:
    return RequestOut.of(sharing.decide(session, principal=principal, request_id=request_id,
                                        approve=body.decision == "approve", reason=body.reason))


@router.get("/catalog/grants", response_model=Page[GrantOut])
def grants(session: DbSession, principal: CurrentPrincipal) -> Page[GrantOut]:
    return Page(items=[GrantOut.of(g) for g in sharing.grants_of(session, principal=principal)])


@router.post("/catalog/grants/{grant_id}/revoke", response_model=GrantOut)
def revoke_grant(grant_id: Id, body: RevokeIn, session: DbSession, principal: CurrentPrincipal) -> GrantOut:
    return GrantOut.of(sharing.revoke(session, principal=principal, grant_id=grant_id, reason=body.reason))


class QueryIn(BaseModel):
    purpose: FreeText = Field(max_length=500)
    fields: list[str]
    filter: dict[str, Any] = Field(default_factory=dict, max_length=exchange.MAX_FILTERS, description=(
        f"field → value (a string of at most {exchange.MAX_FILTER_CHARS} characters, a 64-bit integer "
        "or a boolean); only filterable fields"))
    cursor: str | None = None
    limit: int = Field(100, ge=1, le=exchange.MAX_LIMIT)


class QueryOut(BaseModel):
    rows: list[dict[str, Any]]
    next_cursor: str | None
    audit_seq: int | None = Field(description="The read's sequence number in the audit chain.")


@router.post("/exchange/{dataset_id}/query", response_model=QueryOut)
def exchange_query(dataset_id: str, body: QueryIn, request: Request, session: DbSession,
                   principal: CurrentPrincipal) -> QueryOut:
    """Read granted fields of a dataset (API clients). Masked by grade; one audit event per call."""
    from tongban.core.audit import chain
    from tongban.core.audit.models import AuditEvent

    result = exchange.query(session, principal=principal, dataset_id=dataset_id, **body.model_dump())
    event_id = result.event.id
    session.commit()  # the read is on the record before the data leaves
    chain.flush(session.get_bind().engine, timeout=1.0)  # type: ignore[union-attr]
    seq = session.get(AuditEvent, event_id, populate_existing=True)
    return QueryOut(rows=result.rows, next_cursor=result.next_cursor, audit_seq=seq.seq if seq else None)


class ExportIn(BaseModel):
    purpose: FreeText = Field(max_length=500)
    fields: list[str]


class ExportOut(BaseModel):
    id: str
    dataset_id: str
    fields: list[str]
    rows: int
    created_at: dt.datetime
    download: str
    audit_seq: int | None = None


@router.post("/exchange/{dataset_id}/export", response_model=ExportOut, status_code=201)
def exchange_export(dataset_id: str, body: ExportIn, request: Request, session: DbSession,
                    principal: CurrentPrincipal) -> ExportOut:
    """A Parquet snapshot of granted fields (e.g. for a screening run): one audited read under a grant."""
    from pathlib import Path

    from tongban.core.audit import chain
    from tongban.core.audit.models import AuditEvent
    from tongban.datahub.export import export

    out_dir = Path(request.app.state.settings.var_dir) / "exports"
    result = export(session, principal=principal, dataset_id=dataset_id, fields=body.fields,
                    purpose=body.purpose, out_dir=out_dir)
    e = result.export
    session.commit()
    chain.flush(session.get_bind().engine, timeout=1.0)  # type: ignore[union-attr]
    event = session.get(AuditEvent, result.event_id, populate_existing=True)
    return ExportOut(id=e.id, dataset_id=e.dataset_id, fields=e.fields, rows=e.rows, created_at=e.created_at,
                     download=f"/api/v1/exchange/exports/{e.id}/file", audit_seq=event.seq if event else None)


@router.get("/exchange/exports/{export_id}/file")
def export_file(export_id: str, session: DbSession, principal: CurrentPrincipal) -> FileResponse:
    """Download an export (the department that made it only)."""
    from tongban.datahub.export import get_export

    e = get_export(session, principal=principal, export_id=export_id)
    return FileResponse(e.path, media_type="application/vnd.apache.parquet", filename=f"{e.dataset_id}-{e.id}.parquet")


class ConsentIn(BaseModel):
    department_id: str
    dataset_id: str
    purpose: FreeText = Field(max_length=500)
    days: int = 30
    application_ref: str | None = Field(None, max_length=64)


class ConsentOut(BaseModel):
    id: int
    department_id: str | None  # none for a one-click prefill consent …
    dataset_id: str | None
    scope: str | None = None  # … which is scoped to a one-thing instead
    purpose: str
    application_ref: str | None
    valid_from: dt.datetime
    valid_to: dt.datetime
    withdrawn_at: dt.datetime | None
    active: bool


class DataUseOut(BaseModel):
    at: dt.datetime
    department_id: str | None
    purpose: str | None
    what: str
    channel: str


@router.get("/me/consents", response_model=Page[ConsentOut])
def my_consents(session: DbSession, principal: CurrentPrincipal, limit: Limit = DEFAULT_LIMIT,
                cursor: str | None = None) -> Page[ConsentOut]:
    """Your consents, newest first, a page at a time."""
    rows, next_cursor = consent.mine(session, principal=principal, limit=limit, cursor=cursor)
    return Page(items=[ConsentOut(**consent.consent_dict(c)) for c in rows], next_cursor=next_cursor)


@router.post("/me/consents", response_model=ConsentOut, status_code=201, responses=refusals({
    422: "`department_id` or `dataset_id` names no department or dataset, or `days` is out of bounds"}))
def give_consent(body: ConsentIn, session: DbSession, principal: CurrentPrincipal) -> ConsentOut:
    """Authorise a department to use a dataset about you, for a purpose and a period."""
    return ConsentOut(**consent.consent_dict(consent.give(session, principal=principal, **body.model_dump())))


@router.post("/me/consents/{consent_id}/withdraw", response_model=ConsentOut)
def withdraw_consent(consent_id: Id, session: DbSession, principal: CurrentPrincipal) -> ConsentOut:
    return ConsentOut(**consent.consent_dict(consent.withdraw(session, principal=principal, consent_id=consent_id)))


@router.get("/me/data-uses", response_model=Page[DataUseOut])
def my_data_uses(session: DbSession, principal: CurrentPrincipal, limit: Limit = DEFAULT_LIMIT,
                 cursor: str | None = None) -> Page[DataUseOut]:
    """谁查看了我的数据: who read your data, for what, when; newest first, a page at a time (every
    read at the page's last instant is on the page, which may then hold a few more than `limit`)."""
    rows, next_cursor = consent.data_uses(session, principal=principal, limit=limit, cursor=cursor)
    return Page(items=[DataUseOut(**u) for u in rows], next_cursor=next_cursor)
