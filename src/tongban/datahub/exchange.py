"""The exchange gateway: reads of shared data, checked against the grant (or the subject's
consent) field by field, masked by grade, rate-limited per client, and audited once per call.

What is released of each field is decided in one place, `datahub.release` (the table is in
docs/datahub.md); the basis (owner, grant, consent) is found here, once, by `dataset_basis`.
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
from tongban.core.db import all_tables
from tongban.core.errors import Conflict, Invalid, TooManyRequests
from tongban.core.i18n import N_
from tongban.core.jobs.queue import enqueue
from tongban.core.jobs.registry import handler
from tongban.core.paging import decode_cursor
from tongban.core.timeutil import utcnow
from tongban.datahub.catalog import FIELD_NAME, check_fields, fields_of, get_dataset
from tongban.datahub.consent import consenting
from tongban.datahub.models import DataUse
from tongban.datahub.release import Basis, Field, release_exprs, release_record
from tongban.datahub.sharing import active_grant

MAX_LIMIT = 10_000
MAX_FILTERS = 20  # conditions in one query's `filter`
MAX_FILTER_CHARS = 200  # characters in one filter value (an ID number is 18, a name a few)
_INT64 = 2**63


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
    metadata = all_tables()

    return metadata.tables[name]


def _cursor(value: str | None) -> int:
    return decode_cursor(value) or 0  # the shared format; a malformed or out-of-range one is 422


_Field = Field  # the catalog fields as the release decision reads them

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


# --- the staff read path: one subject, the same basis and masking rules ----------------------


def _refuse(principal: Principal, ds_id: str, action: str = "exchange") -> Denied:
    return Denied(N_("Your department holds no grant for this dataset"), principal=principal,
                  action=f"{action}:{ds_id}")


def dataset_basis(session: Session, *, principal: Principal, ds: Any, action: str = "exchange") -> Basis | None:
    """The caller's department's standing right to a dataset: owner, a live grant, or None.

    The owner rule (`core.access.owns_data`) and the unshared rule (不予共享: the owner's alone)
    are decided here, once, for every path: query, export and staff reads."""
    catalog = _catalog_fields(session, ds.id, ds.updated_at)
    terms = {"dataset_id": ds.id, "catalog": catalog, "sharing_type": ds.sharing_type,
             "opening_type": ds.opening_type}
    if access.owns_data(principal, ds.owner_department_id):
        return Basis(kind="owner", **terms)
    if ds.sharing_type == "none":
        raise Denied(N_("This dataset is not shared (不予共享)"), principal=principal, action=f"{action}:{ds.id}")
    grant = active_grant(session, dataset_id=ds.id, department_id=principal.department_id)
    if grant is None:
        return None
    return Basis(kind="grant", grant_fields=frozenset(grant.fields), clear_fields=frozenset(grant.clear_fields),
                 grant_id=grant.id, **terms)


def basis_for(session: Session, *, principal: Principal, dataset_id: str, subject_id: int | None) -> Basis:
    """The caller's department's right to this dataset (and this subject): owner, grant, or consent.

    The data hub's staff reads (`datahub.persons`) and screening call this, so staff pages pass
    the same checks as exchange clients. Refused (and audited by the web layer) when there is none."""
    from tongban.datahub.models import Dataset

    ds = session.get(Dataset, dataset_id)
    if ds is None:
        raise _refuse(principal, dataset_id)
    basis = dataset_basis(session, principal=principal, ds=ds)
    if subject_id is not None and (basis is None or basis.kind == "grant") and consenting(
            session, department_id=principal.department_id, dataset_id=ds.id, person_ids=[subject_id]):
        return (basis or Basis(kind="consent", dataset_id=ds.id, catalog=_catalog_fields(session, ds.id, ds.updated_at),
                               sharing_type=ds.sharing_type, opening_type=ds.opening_type)).with_consent()
    if basis is None:
        raise _refuse(principal, ds.id)
    return basis


def release(basis: Basis, values: dict[str, Any], *, clear: bool) -> tuple[dict[str, Any], bool]:
    """One record released on `basis` (`clear`: a purpose was stated) — `datahub.release`."""
    return release_record(basis, values, purpose=clear)


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
    basis = Basis(kind="consent", dataset_id=ds.id, catalog=catalog, sharing_type=ds.sharing_type,
                  opening_type=ds.opening_type)
    values, _ = release_record(basis, raw, purpose=True)
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


def basis_label(basis: Basis) -> str:
    """How the audit chain names a basis: owner, grant:<id>, consent."""
    return f"grant:{basis.grant_id}" if basis.kind == "grant" else basis.kind


def consent_matters(basis: Basis, fields: list[str]) -> bool:
    """Would a subject's consent release any of these fields otherwise than `basis` does?"""
    alt = basis.with_consent()
    return any(basis.outcome(f, purpose=True) != alt.outcome(f, purpose=True) for f in fields if f in basis.catalog)


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
    if ds.table_name is None:
        raise Conflict(N_("This dataset cannot be read through the exchange"), field="dataset_id")
    if len((purpose or "").strip()) < 4:
        raise Invalid(N_("State the purpose (at least 4 characters)"), field="purpose")
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(N_("The limit must be between 1 and 10000"), field="limit")
    catalog = _catalog_fields(session, ds.id, ds.updated_at)
    check_fields(fields, catalog)
    filter = filter or {}
    if len(filter) > MAX_FILTERS:
        raise Invalid(N_("At most %(count)s filter conditions"), field="filter", count=MAX_FILTERS)
    for key, value in filter.items():
        if key not in catalog or not catalog[key].filterable:
            shown = f"filter.{key}" if FIELD_NAME.match(key) else "filter"  # never echo what is not a name
            raise Invalid(N_("This field cannot be filtered on"), field=shown)
        if not isinstance(value, (str, int, bool)):
            raise Invalid(N_("A filter value must be a single value"), field=f"filter.{key}")
        if isinstance(value, str) and len(value) > MAX_FILTER_CHARS:
            raise Invalid(N_("A filter value holds at most %(count)s characters"), field=f"filter.{key}",
                          count=MAX_FILTER_CHARS)
        if isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64:
            raise Invalid(N_("A filter value must be a 64-bit whole number"), field=f"filter.{key}")

    found = dataset_basis(session, principal=principal, ds=ds)
    subject_col = ds.subject_field
    if found is None:
        # No grant: only the data of one subject who consented to this department.
        subject_value = filter.get(subject_col) if subject_col else None
        if (subject_value is None or not isinstance(subject_value, int) or not consenting(
                session, department_id=principal.department_id, dataset_id=ds.id, person_ids=[subject_value])):
            raise _refuse(principal, ds.id)
        basis = Basis(kind="consent", dataset_id=ds.id, catalog=catalog, sharing_type=ds.sharing_type,
                      opening_type=ds.opening_type)
    else:
        basis = found
        withheld = [f for f in fields if basis.kind == "grant" and f not in basis.grant_fields]
        subject_value = filter.get(subject_col) if subject_col else None
        if withheld and isinstance(subject_value, int) and consenting(
                session, department_id=principal.department_id, dataset_id=ds.id, person_ids=[subject_value]):
            basis, withheld = basis.with_consent(), []  # one consenting subject: their consent covers it
        if withheld:
            raise Denied(N_("Your grant does not cover the field %(name)s"), principal=principal,
                         action=f"exchange:{ds.id}:{withheld[0]}", name=withheld[0])

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
    consented = None
    if subject_col and basis.kind == "grant" and consent_matters(basis, fields):
        # Rows whose subject consented are released on the consent (docs/datahub.md).
        chosen = consenting(session, department_id=principal.department_id, dataset_id=ds.id, person_ids=subjects)
        consented = pl.col(subject_col).is_in(sorted(chosen)) if chosen else None
    rows = frame.select(release_exprs(basis, fields, purpose=True, consented=consented)).to_dicts() if frame.height else []

    unique_subjects = sorted(set(subjects))
    event = record(session, actor=principal.actor, actor_department=principal.department_id,
                   action="exchange.query", subject=f"dataset:{ds.id}", department_id=ds.owner_department_id,
                   purpose=purpose.strip(), details={
                       "dataset": ds.id, "fields": fields, "rows": len(rows), "basis": basis_label(basis),
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
    return QueryResult(rows=rows, next_cursor=next_cursor, event=event, basis=basis_label(basis))


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
