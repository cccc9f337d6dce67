"""Sharing requests and grants: ask, approve or reject (有条件共享), grant at once (无条件共享),
never for 不予共享; grants expire and can be revoked with immediate effect."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import access
from tongban.core.access import Denied, Principal
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_
from tongban.core.timeutil import utcnow
from tongban.datahub.catalog import check_fields, fields_of, get_dataset
from tongban.datahub.models import Grant, SharingRequest

MAX_PERIOD_DAYS = 3 * 365
T = TypeVar("T", SharingRequest, Grant)


def request_access(
    session: Session, *, principal: Principal, dataset_id: str, fields: list[str], purpose: str,
    legal_basis: str, period_days: int, clear_fields: list[str] | None = None,
) -> SharingRequest:
    """A consumer department asks for fields of a dataset for a purpose and a period."""
    access.require_any(principal, "catalog.steward", "exchange.read")
    if principal.department_id is None:
        raise Invalid(N_("Only a department can ask for data"), field="department")
    ds = get_dataset(session, dataset_id)
    if ds.sharing_type == "none":
        raise Conflict(N_("This dataset is not shared (不予共享)"), field="dataset_id")
    known = {f.name: f for f in fields_of(session, ds.id)}
    check_fields(fields, known)
    clear = clear_fields or []
    for name in clear:
        if name not in fields or known[name].grade != 3:
            raise Invalid(N_("Only requested L3 fields can be asked for in clear text"), field="clear_fields")
    if len(purpose.strip()) < 4:
        raise Invalid(N_("State the purpose (at least 4 characters)"), field="purpose")
    if len(legal_basis.strip()) < 2:
        raise Invalid(N_("State the legal basis"), field="legal_basis")
    if not 1 <= period_days <= MAX_PERIOD_DAYS:
        raise Invalid(N_("The period must be between 1 day and 3 years"), field="period_days")
    req = SharingRequest(dataset_id=ds.id, consumer_department_id=principal.department_id, fields=sorted(set(fields)),
                         clear_fields=sorted(set(clear)), purpose=purpose.strip(), legal_basis=legal_basis.strip(),
                         period_days=period_days, requested_by=principal.actor, status="pending")
    session.add(req)
    session.flush()
    record(session, actor=principal.actor, actor_department=principal.department_id, action="sharing.request",
           subject=f"dataset:{ds.id}", department_id=ds.owner_department_id, purpose=req.purpose,
           details={"request": req.id, "fields": req.fields})
    if ds.sharing_type == "unconditional":
        approve_request(session, req, decided_by="system:unconditional", reason="无条件共享")
    return req


def approve_request(session: Session, req: SharingRequest, *, decided_by: str, reason: str) -> Grant:
    now = utcnow()
    req.status, req.decided_by, req.decided_at, req.decision_reason = "approved", decided_by, now, reason
    req.wait_seconds = int((now - req.created_at).total_seconds())
    grant = Grant(request_id=req.id, dataset_id=req.dataset_id, consumer_department_id=req.consumer_department_id,
                  fields=list(req.fields), clear_fields=list(req.clear_fields), purpose=req.purpose,
                  valid_from=now, valid_to=now + dt.timedelta(days=req.period_days))
    session.add(grant)
    session.flush()
    record(session, actor=decided_by, action="sharing.grant", subject=f"dataset:{req.dataset_id}",
           department_id=req.consumer_department_id, purpose=req.purpose,
           details={"request": req.id, "grant": grant.id, "fields": grant.fields, "wait_seconds": req.wait_seconds})
    return grant


def pending_for_steward(session: Session, *, principal: Principal) -> list[SharingRequest]:
    access.require(principal, "catalog.steward")
    from tongban.datahub.models import Dataset

    q = (select(SharingRequest).join(Dataset, Dataset.id == SharingRequest.dataset_id)
         .where(SharingRequest.status == "pending"))
    q = q.where(access.scope(principal, department=Dataset.owner_department_id))
    return list(session.scalars(q.order_by(SharingRequest.id)))


def _owned_by_steward(session: Session, principal: Principal, model: type[T], row_id: int) -> T:
    """A request or grant about a dataset the caller's department owns, for its data steward."""
    access.require(principal, "catalog.steward")
    row = session.get(model, row_id)
    if row is None:
        raise NotFound()
    access.require_department(principal, get_dataset(session, row.dataset_id).owner_department_id)
    return row


def decide(session: Session, *, principal: Principal, request_id: int, approve: bool, reason: str) -> SharingRequest:
    """The owner's data steward approves or rejects a conditional request, with a reason."""
    req = _owned_by_steward(session, principal, SharingRequest, request_id)
    ds = get_dataset(session, req.dataset_id)
    if req.status != "pending":
        raise Conflict(N_("This request has already been decided"))
    if len(reason.strip()) < 2:
        raise Invalid(N_("Give a reason"), field="reason")
    if approve:
        approve_request(session, req, decided_by=principal.actor, reason=reason.strip())
    else:
        now = utcnow()
        req.status, req.decided_by, req.decided_at, req.decision_reason = "rejected", principal.actor, now, reason
        req.wait_seconds = int((now - req.created_at).total_seconds())
        record(session, actor=principal.actor, actor_department=principal.department_id, action="sharing.reject",
               subject=f"dataset:{ds.id}", department_id=req.consumer_department_id,
               details={"request": req.id, "wait_seconds": req.wait_seconds})
    return req


def revoke(session: Session, *, principal: Principal, grant_id: int, reason: str) -> Grant:
    """The owner (or a platform admin) revokes a grant; the next read is refused."""
    grant = _owned_by_steward(session, principal, Grant, grant_id)
    return _revoke(session, grant, actor=principal.actor, actor_department=principal.department_id, reason=reason)


def revoke_by_operator(session: Session, *, grant_id: int, reason: str) -> Grant:
    """The platform operator's emergency revocation (`tongban datahub revoke`), audited as `system:cli`."""
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound()
    return _revoke(session, grant, actor="system:cli", actor_department=None, reason=reason)


def _revoke(session: Session, grant: Grant, *, actor: str, actor_department: str | None, reason: str) -> Grant:
    if grant.revoked_at is not None:
        raise Conflict(N_("This grant is already revoked"))
    if len(reason.strip()) < 2:
        raise Invalid(N_("Give a reason"), field="reason")
    grant.revoked_at, grant.revoked_by = utcnow(), actor
    record(session, actor=actor, actor_department=actor_department, action="sharing.revoke",
           subject=f"dataset:{grant.dataset_id}", department_id=grant.consumer_department_id,
           details={"grant": grant.id, "reason": reason.strip()[:200]})
    return grant


def grant_status(grant: Grant, now: dt.datetime | None = None) -> str:
    """live | revoked | expired | future — what the next read on this grant would find."""
    now = now or utcnow()
    if grant.revoked_at is not None:
        return "revoked"
    if grant.valid_to <= now:
        return "expired"
    return "future" if grant.valid_from > now else "live"


def active_grant(session: Session, *, dataset_id: str, department_id: str | None) -> Grant | None:
    if department_id is None:
        return None
    now = utcnow()
    return session.scalar(
        select(Grant).where(Grant.dataset_id == dataset_id, Grant.consumer_department_id == department_id,
                            Grant.revoked_at.is_(None), Grant.valid_from <= now, Grant.valid_to > now)
        .order_by(Grant.valid_to.desc()).limit(1)
    )


def grants_of(session: Session, *, principal: Principal) -> list[Grant]:
    """Grants the caller's department holds, or (stewards) has given."""
    access.require_login(principal)
    if principal.department_id is None:
        raise Denied(N_("You are not allowed to do this"), principal=principal, action="grants")
    from tongban.datahub.models import Dataset

    q = select(Grant).join(Dataset, Dataset.id == Grant.dataset_id).where(
        (Grant.consumer_department_id == principal.department_id)
        | (Dataset.owner_department_id == principal.department_id))
    return list(session.scalars(q.order_by(Grant.id)))
