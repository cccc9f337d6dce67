"""Bulk exports: a Parquet snapshot of granted fields as one audited read under a grant.

What screening runs read. The source is the dataset's table (streamed in chunks) or its Parquet
folder (scanned lazily, so a 10-million-person city never sits in memory whole); the masking
rules are the release decision's (`datahub.release`), applied as Polars expressions; the file goes to the export folder and
is registered, with the audit event that records the read.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import access, masking
from tongban.core.access import Denied, Principal
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_
from tongban.core.timeutil import utcnow
from tongban.datahub.catalog import check_fields, get_dataset
from tongban.datahub.exchange import _catalog_fields, _table, basis_label, consent_matters, dataset_basis
from tongban.datahub.models import Consent, DataExport
from tongban.datahub.release import release_exprs

CHUNK = 200_000


@dataclass
class ExportResult:
    export: DataExport
    event_id: int


def _scan(parquet_path: str) -> pl.LazyFrame:
    folder = Path(parquet_path)
    return pl.scan_parquet(str(folder / "*.parquet") if folder.is_dir() else str(folder))


def _source(session: Session, ds: Any, columns: list[str]) -> Iterator[pl.DataFrame]:
    table = _table(ds.table_name)
    result = session.execute(select(*[table.c[c] for c in columns]).order_by(table.c.id)
                             .execution_options(yield_per=CHUNK))
    for part in result.partitions(CHUNK):
        yield pl.DataFrame([tuple(r) for r in part], schema=columns, orient="row", infer_schema_length=None)


def export(
    session: Session, *, principal: Principal, dataset_id: str, fields: list[str], purpose: str, out_dir: Path,
) -> ExportResult:
    """Write the granted fields of every row to Parquet, masked by grade; one audit event."""
    access.require(principal, "exchange.read")
    ds = get_dataset(session, dataset_id)
    if ds.table_name is None and ds.parquet_path is None:
        raise Conflict(N_("This dataset cannot be read through the exchange"), field="dataset_id")
    if len((purpose or "").strip()) < 4:
        raise Invalid(N_("State the purpose (at least 4 characters)"), field="purpose")
    catalog = _catalog_fields(session, ds.id, ds.updated_at)
    check_fields(fields, catalog)
    basis = dataset_basis(session, principal=principal, ds=ds, action="export")
    if basis is None:
        raise Denied(N_("Your department holds no grant for this dataset"), principal=principal,
                     action=f"export:{ds.id}")
    missing = [f for f in fields if basis.kind == "grant" and f not in basis.grant_fields]
    if missing:
        raise Denied(N_("Your grant does not cover the field %(name)s"), principal=principal,
                     action=f"export:{ds.id}:{missing[0]}", name=missing[0])
    subject_col = ds.subject_field
    consented = None
    if subject_col and basis.kind == "grant" and consent_matters(basis, fields):
        # The rows of subjects who consented are released on their consent, as in `query`.
        now = utcnow()
        chosen = sorted(set(session.scalars(select(Consent.person_id).where(
            Consent.grantee_department_id == principal.department_id, Consent.dataset_id == ds.id,
            Consent.withdrawn_at.is_(None), Consent.valid_from <= now, Consent.valid_to > now))))
        consented = pl.col(subject_col).is_in(chosen) if chosen else None
    exprs = release_exprs(basis, fields, purpose=True, consented=consented)

    export_id = uuid.uuid4().hex
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{ds.id}-{export_id}.parquet"
    columns = list(dict.fromkeys([*fields, *([subject_col] if subject_col else [])]))
    fingerprint = hmac.new(masking.pseudonym("export-key").encode(), digestmod=hashlib.sha256)
    if ds.parquet_path:
        # Streamed end to end: a 10-million-person city never sits in memory whole.
        lazy = _scan(ds.parquet_path).select(columns)
        if subject_col:
            fingerprint.update(lazy.select(pl.col(subject_col).cast(pl.Int64)).collect()
                               .to_series().to_numpy().tobytes())
        lazy.select(exprs).sink_parquet(path, compression="zstd")
        rows = pl.scan_parquet(path).select(pl.len()).collect().item()
    else:
        parts = []
        for frame in _source(session, ds, columns):
            if subject_col:
                fingerprint.update(frame[subject_col].cast(pl.Int64).to_numpy().tobytes())
            parts.append(frame.select(exprs))
        out = pl.concat(parts) if parts else pl.DataFrame(schema={f: pl.String for f in fields})
        out.write_parquet(path, compression="zstd")
        rows = out.height
    event = record(session, actor=principal.actor, actor_department=principal.department_id,
                   action="exchange.export", subject=f"dataset:{ds.id}", department_id=ds.owner_department_id,
                   purpose=purpose.strip(), details={"dataset": ds.id, "fields": fields, "rows": rows,
                                                      "basis": basis_label(basis),
                                                      "export": export_id,
                                                      "subjects_hmac": fingerprint.hexdigest()[:32]})
    session.flush()
    row = DataExport(id=export_id, dataset_id=ds.id, department_id=principal.department_id or "", fields=fields,
                     purpose=purpose.strip(), rows=rows, path=str(path), audit_event_id=event.id)
    session.add(row)
    session.flush()
    return ExportResult(export=row, event_id=event.id)


def get_export(session: Session, *, principal: Principal, export_id: str) -> DataExport:
    """An export, for the department that made it."""
    access.require(principal, "exchange.read")
    row = session.get(DataExport, export_id)
    if row is None:
        raise NotFound()
    access.require_department(principal, row.department_id)
    return row
