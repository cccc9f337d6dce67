"""The exchange gateway: reads of shared data, checked against the grant (or the subject's
consent) field by field, masked by grade, rate-limited per client, and audited once per call.

Masking rules: L1 and L2 are returned as they are; L3 is masked unless the grant allows it in
clear text (or the subject consented); L4 is returned only for rows whose subject consented —
otherwise it is withheld (null).
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from tongban.core import access, masking
from tongban.core.access import Denied, Principal
from tongban.core.audit.log import record
from tongban.core.audit.models import AuditEvent
from tongban.core.errors import Conflict, Invalid, TooManyRequests
from tongban.core.i18n import N_
from tongban.core.jobs.queue import enqueue
from tongban.core.jobs.registry import handler
from tongban.core.paging import decode_cursor
from tongban.core.timeutil import utcnow
from tongban.datahub.catalog import FIELD_NAME, check_fields, fields_of, get_dataset
from tongban.datahub.consent import consenting
from tongban.datahub.models import DataUse
from tongban.datahub.sharing import active_grant

MAX_LIMIT = 10_000


# --- rate limit: a token bucket per client, per app instance ----------------------------------


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimit:
    capacity: float = 60.0
    per_second: float = 20.0
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                b = self._buckets[key] = _Bucket(self.capacity, now)
            b.tokens = min(self.capacity, b.tokens + (now - b.at) * self.per_second)
            b.at = now
            if b.tokens < 1:
                return False
            b.tokens -= 1
            return True


rate_limit = RateLimit()


def _table(name: str) -> Table:
    from tongban.models import metadata

    return metadata.tables[name]


def _cursor(value: str | None) -> int:
    return decode_cursor(value) or 0  # the shared format; a malformed or out-of-range one is 422


@dataclass(frozen=True)
class _Field:
    name: str
    grade: int
    mask: str | None
    filterable: bool


_fields_cache: dict[tuple[str, Any], dict[str, _Field]] = {}


def _catalog_fields(session: Session, dataset_id: str, version: Any) -> dict[str, _Field]:
    """A dataset's fields, cached per process until the entry changes (pack loads bump updated_at)."""
    key = (dataset_id, version)
    found = _fields_cache.get(key)
    if found is None:
        found = {f.name: _Field(f.name, f.grade, f.mask, f.filterable) for f in fields_of(session, dataset_id)}
        if len(_fields_cache) > 256:
            _fields_cache.clear()
        _fields_cache[key] = found
    return found


def _mask_expr(f: _Field) -> pl.Expr:
    return masking.mask_expr(f.mask, f.name)


def _owner_grant(ds: Any, catalog: dict[str, _Field]) -> Any:
    """What the owning department may read of its own dataset: every field, in clear."""
    from types import SimpleNamespace

    return SimpleNamespace(id=f"owner:{ds.id}", fields=list(catalog), clear_fields=list(catalog))


# --- the staff read path: one subject, the same basis and masking rules ----------------------


@dataclass(frozen=True)
class Basis:
    """Why the caller may see a subject's record in a dataset: ownership, a grant or consent."""

    dataset_id: str
    catalog: dict[str, _Field]
    owner: bool
    grant_fields: frozenset[str]
    clear_fields: frozenset[str]
    consented: bool

    @property
    def any_clear(self) -> bool:
        return self.owner or self.consented or bool(self.clear_fields)


def basis_for(session: Session, *, principal: Principal, dataset_id: str, subject_id: int | None) -> Basis:
    """The caller's department's right to this dataset (and this subject): owner, grant, or consent.

    The registry's staff read path calls this, so staff pages pass the same checks as exchange
    clients. Refused (and audited by the web layer) when there is none.
    """
    from tongban.datahub.models import Dataset

    ds = session.get(Dataset, dataset_id)
    if ds is None:
        raise Denied(N_("Your department holds no grant for this dataset"), principal=principal,
                     action=f"exchange:{dataset_id}")
    catalog = _catalog_fields(session, ds.id, ds.updated_at)
    owner = principal.is_platform_admin or principal.department_id == ds.owner_department_id
    grant = None if owner else active_grant(session, dataset_id=ds.id, department_id=principal.department_id)
    consented = bool(subject_id is not None and not owner and consenting(
        session, department_id=principal.department_id, dataset_id=ds.id, person_ids=[subject_id]))
    if not (owner or grant is not None or consented):
        raise Denied(N_("Your department holds no grant for this dataset"), principal=principal,
                     action=f"exchange:{ds.id}")
    return Basis(dataset_id=ds.id, catalog=catalog, owner=owner,
                 grant_fields=frozenset(grant.fields) if grant else frozenset(),
                 clear_fields=frozenset(grant.clear_fields) if grant else frozenset(), consented=consented)


def release(basis: Basis, values: dict[str, Any], *, clear: bool) -> tuple[dict[str, Any], bool]:
    """Apply the basis to one record: fields not covered → None; L4 only to the owner or with
    consent; L3 masked unless `clear` (a stated purpose) and the basis allows it in clear.
    Returns the released values and whether anything was masked or withheld."""
    out: dict[str, Any] = {}
    hidden = False
    full = basis.owner or basis.consented
    for name, value in values.items():
        f = basis.catalog.get(name)
        if f is None:
            out[name] = value
            continue
        if not (full or name in basis.grant_fields) or (f.grade == 4 and not full):
            out[name] = None
            hidden = hidden or value is not None
        elif f.grade == 3 and not (clear and (full or name in basis.clear_fields)):
            fn = masking.MASKS.get(f.mask or "")
            out[name] = (fn(value if f.mask == "year" else str(value)) if fn else "***") if value is not None else None
            hidden = hidden or value is not None
        else:
            out[name] = value
    return out, hidden


def read_on_consent(session: Session, *, principal: Principal, consent: Any, dataset_id: str, record_id: int,
                    fields: list[str], subject_person_id: int, purpose: str, action: str = "exchange.consent_read",
                    details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read `fields` of one record of a dataset on a resident's one-click consent (a `Consent`
    with a `scope`, e.g. a one-thing's prefill), released as consented data, audited once and
    indexed for "who used my data" under `subject_person_id` like every exchange read."""
    from tongban.datahub.models import Consent

    now = utcnow()
    if (not isinstance(consent, Consent) or consent.scope is None or consent.withdrawn_at is not None
            or not consent.valid_from <= now < consent.valid_to):
        raise Denied(N_("No live consent covers this read"), principal=principal, action=f"exchange:{dataset_id}")
    ds = get_dataset(session, dataset_id)
    if ds.table_name is None:
        raise Conflict(N_("This dataset cannot be read through the exchange"), field="dataset_id")
    catalog = _catalog_fields(session, ds.id, ds.updated_at)
    check_fields(fields, catalog)
    table = _table(ds.table_name)
    row = session.execute(select(*[table.c[f] for f in fields]).where(table.c.id == record_id)).first()
    raw = {f: (v.isoformat() if hasattr(v, "isoformat") else v) for f, v in zip(fields, row or (), strict=False)}
    basis = Basis(dataset_id=ds.id, catalog=catalog, owner=False, grant_fields=frozenset(),
                  clear_fields=frozenset(), consented=True)
    values, _ = release(basis, raw, clear=True)
    kind = {"person": "person", "household": "household"}.get(ds.table_name, ds.table_name)
    event = record(session, actor=principal.actor, actor_department=principal.department_id, action=action,
                   subject=masking.subject(kind, record_id), department_id=ds.owner_department_id,
                   purpose=purpose, details={
                       "dataset": ds.id, "fields": sorted(set(fields)), "rows": 1 if row else 0,
                       "basis": f"consent:{consent.id}", "scope": consent.scope, **(details or {}),
                       "subjects_hmac": subjects_fingerprint([subject_person_id])})
    session.flush()
    if row is not None:
        enqueue(session, kind="datahub.data_use", payload={
            "event_id": event.id, "department_id": principal.department_id, "dataset_id": ds.id,
            "purpose": purpose, "subjects": [subject_person_id]})
    return values


def subjects_fingerprint(person_ids: list[int]) -> str:
    return masking.pseudonym("subjects:" + ",".join(map(str, person_ids)))


@dataclass
class QueryResult:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    event: AuditEvent
    basis: str


def query(
    session: Session, *, principal: Principal, dataset_id: str, fields: list[str], purpose: str,
    filter: dict[str, Any] | None = None, cursor: str | None = None, limit: int = 100,
) -> QueryResult:
    """Read `fields` of the rows of a dataset matching `filter`, on the caller's grant or the subject's consent."""
    access.require(principal, "exchange.read")
    if not rate_limit.take(principal.actor):
        raise TooManyRequests(N_("Too many requests; slow down"))
    ds = get_dataset(session, dataset_id)
    if ds.sharing_type == "none":
        raise Denied(N_("This dataset is not shared (不予共享)"), principal=principal, action=f"exchange:{ds.id}")
    if ds.table_name is None:
        raise Conflict(N_("This dataset cannot be read through the exchange"), field="dataset_id")
    if len((purpose or "").strip()) < 4:
        raise Invalid(N_("State the purpose (at least 4 characters)"), field="purpose")
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(N_("The limit must be between 1 and 10000"), field="limit")
    catalog = _catalog_fields(session, ds.id, ds.updated_at)
    check_fields(fields, catalog)
    filter = filter or {}
    for key, value in filter.items():
        if key not in catalog or not catalog[key].filterable:
            shown = f"filter.{key}" if FIELD_NAME.match(key) else "filter"  # never echo what is not a name
            raise Invalid(N_("This field cannot be filtered on"), field=shown)
        if not isinstance(value, (str, int, bool)):
            raise Invalid(N_("A filter value must be a single value"), field=f"filter.{key}")

    grant = active_grant(session, dataset_id=ds.id, department_id=principal.department_id)
    subject_col = ds.subject_field
    consent_subjects: set[int] = set()
    if principal.department_id == ds.owner_department_id:
        grant = _owner_grant(ds, catalog)  # the owner reads its own data in full
        basis = "owner"
    elif grant is not None:
        missing = [f for f in fields if f not in grant.fields]
        if missing:
            raise Denied(N_("Your grant does not cover the field %(name)s"), principal=principal,
                         action=f"exchange:{ds.id}:{missing[0]}", name=missing[0])
        basis = f"grant:{grant.id}"
    else:
        # No grant: only the data of one subject who consented to this department.
        subject_value = filter.get(subject_col) if subject_col else None
        if subject_value is None or not isinstance(subject_value, int):
            raise Denied(N_("Your department holds no grant for this dataset"), principal=principal,
                         action=f"exchange:{ds.id}")
        consent_subjects = consenting(session, department_id=principal.department_id, dataset_id=ds.id,
                                      person_ids=[subject_value])
        if not consent_subjects:
            raise Denied(N_("Your department holds no grant for this dataset"), principal=principal,
                         action=f"exchange:{ds.id}")
        basis = "consent"

    table = _table(ds.table_name)
    wanted = list(dict.fromkeys([*fields, "id", *([subject_col] if subject_col else [])]))
    q = select(*[table.c[c] for c in wanted]).where(table.c.id > _cursor(cursor))
    for key, value in filter.items():
        q = q.where(table.c[key] == value)
    raw = session.execute(q.order_by(table.c.id).limit(limit + 1)).all()
    more = len(raw) > limit
    raw = raw[:limit]
    frame = pl.DataFrame([tuple(r) for r in raw], schema=wanted, orient="row", infer_schema_length=None)

    subjects: list[int] = frame[subject_col].drop_nulls().cast(pl.Int64).to_list() if subject_col else []
    if grant is not None and any(catalog[f].grade == 4 for f in fields):
        consent_subjects = consenting(session, department_id=principal.department_id, dataset_id=ds.id,
                                      person_ids=subjects)
    clear = set(grant.clear_fields) if grant is not None else set(catalog)
    consented = (pl.col(subject_col).is_in(sorted(consent_subjects)) if subject_col and consent_subjects
                 else pl.lit(False))
    exprs = []
    for name in fields:
        f = catalog[name]
        if f.grade == 4:
            exprs.append(pl.when(consented).then(pl.col(name)).otherwise(None).alias(name))
        elif f.grade == 3 and name not in clear:
            exprs.append(pl.when(consented).then(pl.col(name).cast(pl.String))
                         .otherwise(_mask_expr(f)).alias(name))
        else:
            exprs.append(pl.col(name))
    rows = frame.select(exprs).to_dicts() if frame.height else []

    unique_subjects = sorted(set(subjects))
    event = record(session, actor=principal.actor, actor_department=principal.department_id,
                   action="exchange.query", subject=f"dataset:{ds.id}", department_id=ds.owner_department_id,
                   purpose=purpose.strip(), details={
                       "dataset": ds.id, "fields": fields, "rows": len(rows), "basis": basis,
                       "subjects": len(unique_subjects),
                       # A keyed fingerprint of exactly which subjects were read; the per-subject
                       # pseudonyms go to the data-use index (written by a job) and can be checked against it.
                       "subjects_hmac": subjects_fingerprint(unique_subjects)})
    session.flush()
    if unique_subjects:
        enqueue(session, kind="datahub.data_use", payload={
            "event_id": event.id, "department_id": principal.department_id, "dataset_id": ds.id,
            "purpose": purpose.strip(), "subjects": unique_subjects})
    next_cursor = base64.urlsafe_b64encode(str(raw[-1]._mapping["id"]).encode()).decode() if more and raw else None
    return QueryResult(rows=rows, next_cursor=next_cursor, event=event, basis=basis)


@handler("datahub.data_use")
def write_data_uses(session: Session, payload: dict[str, Any]) -> None:
    """The per-subject index behind "who used my data", written shortly after each exchange read.

    The subjects must match the keyed fingerprint in the read's audit event, so the index can
    hold no more and no fewer subjects than the chain says were read."""
    import json

    event = session.get_one(AuditEvent, payload["event_id"])
    if json.loads(event.details).get("subjects_hmac") != subjects_fingerprint(sorted(payload["subjects"])):
        raise ValueError(f"data-use job for audit event {event.id}: subjects do not match the event's fingerprint")
    at = event.at
    session.execute(insert(DataUse), [
        {"audit_event_id": payload["event_id"], "subject": masking.subject("person", sid), "at": at,
         "department_id": payload["department_id"], "dataset_id": payload["dataset_id"],
         "purpose": payload["purpose"]}
        for sid in payload["subjects"]])
