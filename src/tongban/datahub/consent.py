"""Consent (授权): a resident lets a department use a dataset about them, for a purpose and a
period (or for one application), sees it, and withdraws it — effective at once. Also "who used
my data", from the audit chain and the exchange's per-subject data-use index."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import masking, paging
from tongban.core.access import NotYours, Principal
from tongban.core.audit.log import record
from tongban.core.audit.models import AuditEvent
from tongban.core.errors import Conflict, Invalid
from tongban.core.i18n import N_
from tongban.core.identity.models import Department
from tongban.core.timeutil import utcnow
from tongban.datahub.catalog import get_dataset
from tongban.datahub.models import Consent, DataUse

MAX_DAYS = 365


def give(
    session: Session, *, principal: Principal, department_id: str, dataset_id: str, purpose: str,
    days: int = 30, application_ref: str | None = None,
) -> Consent:
    from tongban.registry.service import own_person

    person = own_person(session, principal=principal)
    if session.get(Department, department_id) is None:
        raise Invalid(N_("Unknown department"), field="department_id")
    ds = get_dataset(session, dataset_id)
    if ds.sharing_type == "none":
        raise Conflict(N_("This dataset is not shared (不予共享)"), field="dataset_id")
    if len(purpose.strip()) < 4:
        raise Invalid(N_("State the purpose (at least 4 characters)"), field="purpose")
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(N_("A consent lasts between 1 day and a year"), field="days")
    now = utcnow()
    consent = Consent(person_id=person.id, grantee_department_id=department_id, dataset_id=ds.id,
                      purpose=purpose.strip(), application_ref=application_ref, valid_from=now,
                      valid_to=now + dt.timedelta(days=days))
    session.add(consent)
    session.flush()
    record(session, actor=principal.actor, action="consent.give", subject=masking.subject("person", person.id),
           department_id=department_id, purpose=consent.purpose,
           details={"consent": consent.id, "dataset": ds.id, "days": days, "application": application_ref})
    return consent


def give_scoped(session: Session, *, person_id: int, scope: str, purpose: str, valid_from: dt.datetime,
                valid_to: dt.datetime) -> Consent:
    """A consent scoped to one scenario (e.g. a one-thing's prefill, 一键授权), for no one
    department or dataset: the scenario checks the scope and audits the giving (it knows the
    purpose it was given for). Flushed, not committed."""
    consent = Consent(person_id=person_id, grantee_department_id=None, dataset_id=None, scope=scope,
                      purpose=purpose, valid_from=valid_from, valid_to=valid_to, created_at=valid_from)
    session.add(consent)
    session.flush()
    return consent


def live_scoped(session: Session, *, person_id: int, scope: str, at: dt.datetime) -> Consent | None:
    """The person's newest consent for `scope` that is live at `at` and not yet used by an application."""
    return session.scalars(select(Consent).where(
        Consent.person_id == person_id, Consent.scope == scope, Consent.application_ref.is_(None),
        Consent.withdrawn_at.is_(None), Consent.valid_from <= at, Consent.valid_to > at)
        .order_by(Consent.id.desc()).limit(1)).first()


def by_id(session: Session, consent_id: int) -> Consent | None:
    return session.get(Consent, consent_id)


def mine(session: Session, *, principal: Principal, limit: int = paging.DEFAULT_LIMIT,
         cursor: str | None = None) -> tuple[list[Consent], str | None]:
    """The caller's consents, newest first, one page, and the next page's cursor."""
    from tongban.registry.service import own_person

    person = own_person(session, principal=principal)
    return paging.keyset(session, select(Consent).where(Consent.person_id == person.id), Consent.id,
                         limit=limit, cursor=cursor)


def withdraw(session: Session, *, principal: Principal, consent_id: int) -> Consent:
    from tongban.registry.service import own_person

    person = own_person(session, principal=principal)
    consent = session.get(Consent, consent_id)
    if consent is None or consent.person_id != person.id:
        raise NotYours(N_("No such consent"), principal=principal, action="consent.withdraw")
    if consent.withdrawn_at is not None:
        raise Conflict(N_("This consent is already withdrawn"))
    consent.withdrawn_at = utcnow()
    record(session, actor=principal.actor, action="consent.withdraw", subject=masking.subject("person", person.id),
           department_id=consent.grantee_department_id, details={"consent": consent.id})
    return consent


def consenting(session: Session, *, department_id: str | None, dataset_id: str, person_ids: list[int]) -> set[int]:
    """Which of these persons have a live consent for this department and dataset."""
    if not person_ids or department_id is None:
        return set()
    now = utcnow()
    rows = session.scalars(select(Consent.person_id).where(
        Consent.person_id.in_(person_ids), Consent.grantee_department_id == department_id,
        Consent.dataset_id == dataset_id, Consent.withdrawn_at.is_(None),
        Consent.valid_from <= now, Consent.valid_to > now))
    return set(rows)


def consent_dict(c: Consent) -> dict[str, Any]:
    now = utcnow()
    live = c.withdrawn_at is None and c.valid_from <= now < c.valid_to
    return {"id": c.id, "department_id": c.grantee_department_id, "dataset_id": c.dataset_id, "scope": c.scope,
            "purpose": c.purpose, "application_ref": c.application_ref, "valid_from": c.valid_from,
            "valid_to": c.valid_to, "withdrawn_at": c.withdrawn_at, "active": live}


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICRO = dt.timedelta(microseconds=1)


def data_uses(session: Session, *, principal: Principal, limit: int = paging.DEFAULT_LIMIT,
              cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """谁查看了我的数据: every read of the resident's data by others, newest first, one page, and
    the next page's cursor (None on the last).

    The reads come from three places (the audit chain's registry reads, the exchange's data uses
    and the bulk exports holding the person's record), so the cursor is a time, not an id: the
    instant of the page's last read (microseconds, opaque like every cursor). The next page holds
    the reads before it; every read at that very instant is on this page, which may then hold a
    few more than `limit`, so no read is ever skipped."""
    from tongban.registry.service import own_person

    paging.check_limit(limit)
    after = paging.decode_cursor(cursor)
    person = own_person(session, principal=principal)
    subject = masking.subject("person", person.id)
    before = _EPOCH + after * _MICRO if after is not None else None
    items = _uses(session, person.id, subject, lambda c: c < before if before is not None else None, limit + 1)
    if len(items) <= limit:
        return items, None
    boundary = items[limit - 1]["at"]
    page = [u for u in items if u["at"] > boundary] + _uses(session, person.id, subject, lambda c: c == boundary, None)
    more = any(u["at"] < boundary for u in items) or bool(_uses(session, person.id, subject,
                                                              lambda c: c < boundary, 1))
    return page, paging.encode_cursor((boundary - _EPOCH) // _MICRO) if more else None


def _uses(session: Session, person_id: int, subject: str, when: Callable[[Any], Any], limit: int | None
          ) -> list[dict[str, Any]]:
    """The reads whose time meets `when(column)` (None: any), newest first, at most `limit` of them."""

    def where(q: Any, column: Any) -> Any:
        cond = when(column)
        q = q.where(cond) if cond is not None else q
        return q.order_by(column.desc()).limit(limit) if limit is not None else q.order_by(column.desc())

    out: list[dict[str, Any]] = []
    for e in session.scalars(where(select(AuditEvent).where(
            AuditEvent.subject == subject, AuditEvent.action.in_(("person.read",))), AuditEvent.at)):
        out.append({"at": e.at, "department_id": e.actor_department, "purpose": e.purpose, "what": "registry",
                    "channel": "staff"})
    for u in session.scalars(where(select(DataUse).where(DataUse.subject == subject), DataUse.at)):
        out.append({"at": u.at, "department_id": u.department_id, "purpose": u.purpose, "what": u.dataset_id,
                    "channel": "exchange"})
    out.extend(_exports_holding(session, person_id, where))
    out.sort(key=lambda d: d["at"], reverse=True)
    return out[:limit] if limit is not None else out


def _exports_holding(session: Session, person_id: int, where: Callable[[Any, Any], Any]) -> list[dict[str, Any]]:
    """Bulk exports read a whole dataset: list those of table-held datasets that hold a record of
    this person (the record's presence is checked now, not at the export's time)."""
    from sqlalchemy import exists

    from tongban.core.db import table as table_named
    from tongban.datahub.models import DataExport, Dataset

    out: list[dict[str, Any]] = []
    held = session.scalars(select(Dataset).where(
        Dataset.id.in_(select(DataExport.dataset_id).distinct()), Dataset.table_name.is_not(None),
        Dataset.subject_field.is_not(None)))
    for ds in held:
        table = table_named(ds.table_name or "")
        if not session.scalar(select(exists().where(table.c[ds.subject_field or "id"] == person_id))):
            continue
        for e in session.scalars(where(select(DataExport).where(DataExport.dataset_id == ds.id),
                                       DataExport.created_at)):
            out.append({"at": e.created_at, "department_id": e.department_id, "purpose": e.purpose,
                        "what": ds.id, "channel": "export"})
    return out
