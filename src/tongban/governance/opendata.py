"""Open data (开放域): 无条件开放 datasets for anyone, without login; 受限开放 datasets for a
registered user or organisation whose application the owner department approved, under the
terms of use, each download audited; 禁止开放 datasets are never listed or served publicly.

What a download holds: an open dataset's L1 fields only (the catalog refuses an open dataset
with anything above L1, and the download checks again); a restricted dataset's L1–L2 fields as
they are and L3 fields masked (core.masking); L4 never.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import access, masking
from tongban.core.access import Denied, Principal
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_
from tongban.core.timeutil import utcnow
from tongban.datahub.catalog import fields_of
from tongban.datahub.models import Dataset, DatasetField
from tongban.governance.models import OpenApplication
from tongban.governance.rules import table_of

FORMATS = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}
TERMS_VERSION = "2026-1"
TERMS = N_("Use the data only for the purpose stated; do not try to identify any person; do not pass the "
           "data on; name the source; delete the data when the purpose is met.")
APPROVAL_DAYS = 365
MAX_ROWS = 1_000_000


def public_datasets(session: Session) -> list[Dataset]:
    """What the public open-data page lists: 无条件开放 and 受限开放 datasets that hold data."""
    return list(session.scalars(select(Dataset).where(Dataset.opening_type.in_(("open", "restricted")),
                                                      Dataset.table_name.is_not(None)).order_by(Dataset.id)))


def public_dataset(session: Session, dataset_id: str) -> Dataset:
    """A dataset the public may know of; 禁止开放 (and unknown) ones are simply not found."""
    ds = session.get(Dataset, dataset_id)
    if ds is None or ds.opening_type not in ("open", "restricted") or ds.table_name is None:
        raise NotFound(N_("No such open dataset"))
    return ds


def released_fields(session: Session, ds: Dataset) -> list[DatasetField]:
    """The fields a download of this dataset may hold."""
    limit = 1 if ds.opening_type == "open" else 3
    return [f for f in fields_of(session, ds.id) if f.grade <= limit]


@dataclass
class Download:
    content: bytes
    media_type: str
    filename: str
    rows: int


def download(session: Session, *, principal: Principal, dataset_id: str, fmt: str) -> Download:
    """A whole open dataset as CSV or Parquet; restricted ones on an approved application (audited)."""
    ds = public_dataset(session, dataset_id)
    if fmt not in FORMATS:
        raise NotFound(N_("This format is not offered; use csv or parquet"), field="format")
    application = None
    if ds.opening_type == "restricted":
        access.require(principal, "open.apply")
        application = _approved(session, principal, ds.id)
        if application is None:
            raise Denied(N_("This dataset is open on approval: apply first"), principal=principal,
                         action=f"open:{ds.id}")
    fields = released_fields(session, ds)
    table = table_of(ds.table_name or "")
    names = [f.name for f in fields]
    rows = session.execute(select(*[table.c[n] for n in names]).order_by(*[table.c[names[0]]])
                           .limit(MAX_ROWS)).all()
    frame = pl.DataFrame([tuple(r) for r in rows], schema=names, orient="row", infer_schema_length=None)
    masks = [masking.mask_expr(f.mask, f.name) for f in fields if f.grade == 3]
    if masks and frame.height:
        frame = frame.with_columns(masks)
    buf = io.BytesIO()
    if fmt == "csv":  # with a byte-order mark: Excel on Chinese Windows reads it as UTF-8, not GBK
        buf.write(b"\xef\xbb\xbf")
        frame.write_csv(buf)
    else:
        frame.write_parquet(buf, compression="zstd")
    if application is not None:
        record(session, actor=principal.actor, actor_department=principal.department_id, action="open.download",
               subject=f"dataset:{ds.id}", department_id=ds.owner_department_id,
               purpose=application.purpose,
               details={"dataset": ds.id, "format": fmt, "rows": frame.height, "fields": names,
                        "application": application.id})
    return Download(buf.getvalue(), FORMATS[fmt], f"{ds.id}.{fmt}", frame.height)


def _approved(session: Session, principal: Principal, dataset_id: str) -> OpenApplication | None:
    if principal.account_id is None:
        return None
    now = utcnow()
    return session.scalars(select(OpenApplication).where(
        OpenApplication.account_id == principal.account_id, OpenApplication.dataset_id == dataset_id,
        OpenApplication.status == "approved", OpenApplication.valid_to > now)
        .order_by(OpenApplication.id.desc()).limit(1)).first()


def apply(session: Session, *, principal: Principal, dataset_id: str, purpose: str, accept_terms: bool,
          organisation: str | None = None) -> OpenApplication:
    """A registered user (for themselves or an organisation) applies for a 受限开放 dataset."""
    access.require(principal, "open.apply")
    if principal.account_id is None:
        raise Denied(N_("Only a registered user can apply"), principal=principal, action="open.apply")
    ds = public_dataset(session, dataset_id)
    if ds.opening_type == "open":
        raise Conflict(N_("This dataset is open to all; no application is needed"), field="dataset_id")
    if len((purpose or "").strip()) < 4:
        raise Invalid(N_("State the purpose (at least 4 characters)"), field="purpose")
    if not accept_terms:
        raise Invalid(N_("Accept the terms of use to apply"), field="accept_terms")
    if session.scalar(select(OpenApplication.id).where(OpenApplication.account_id == principal.account_id,
                                                       OpenApplication.dataset_id == ds.id,
                                                       OpenApplication.status == "pending")):
        raise Conflict(N_("You already have an application waiting for this dataset"), field="dataset_id")
    app = OpenApplication(dataset_id=ds.id, account_id=principal.account_id,
                          organisation=(organisation or "").strip()[:200] or None, purpose=purpose.strip(),
                          terms_version=TERMS_VERSION, status="pending")
    session.add(app)
    session.flush()
    record(session, actor=principal.actor, action="open.apply", subject=f"dataset:{ds.id}",
           department_id=ds.owner_department_id, purpose=app.purpose,
           details={"application": app.id, "terms": TERMS_VERSION})
    return app


def applications_for(session: Session, *, principal: Principal, pending_only: bool = False) -> list[OpenApplication]:
    """Data stewards: applications for their department's datasets; anyone else: their own."""
    access.require_login(principal)
    q = select(OpenApplication)
    if principal.has("catalog.steward"):
        q = q.join(Dataset, Dataset.id == OpenApplication.dataset_id)
        q = q.where(access.scope(principal, department=Dataset.owner_department_id))
    else:
        access.require(principal, "open.apply")
        q = q.where(OpenApplication.account_id == principal.account_id)
    if pending_only:
        q = q.where(OpenApplication.status == "pending")
    return list(session.scalars(q.order_by(OpenApplication.id)))


def decide(session: Session, *, principal: Principal, application_id: int, approve: bool,
           reason: str) -> OpenApplication:
    """The owner department's data steward approves (for a year) or rejects, with a reason."""
    access.require(principal, "catalog.steward")
    app = session.get(OpenApplication, application_id, with_for_update=True)
    if app is None:
        raise NotFound(N_("No such application"))
    ds = session.get_one(Dataset, app.dataset_id)
    access.require_department(principal, ds.owner_department_id)
    if app.status != "pending":
        raise Conflict(N_("This application has already been decided"))
    if len((reason or "").strip()) < 2:
        raise Invalid(N_("Give a reason"), field="reason")
    now = utcnow()
    app.status = "approved" if approve else "rejected"
    app.decided_by, app.decided_at, app.decision_reason = principal.actor, now, reason.strip()[:500]
    app.valid_to = now + dt.timedelta(days=APPROVAL_DAYS) if approve else None
    record(session, actor=principal.actor, actor_department=principal.department_id,
           action="open.approve" if approve else "open.reject", subject=f"dataset:{ds.id}",
           department_id=ds.owner_department_id, details={"application": app.id})
    return app
