"""Browsing the audit log (for auditors and department admins), with cursor pagination."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tongban.core import access
from tongban.core.access import Principal
from tongban.core.audit.log import record
from tongban.core.audit.models import AuditEvent
from tongban.core.paging import decode_cursor, encode_cursor


@dataclass
class EventFilter:
    action: str | None = None
    actor: str | None = None
    outcome: str | None = None
    subject: str | None = None
    department_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def list_events(
    session: Session, *, principal: Principal, filters: EventFilter, limit: int = 50, cursor: str | None = None
) -> tuple[list[AuditEvent], str | None]:
    """Newest first. Reading the log is itself audited."""
    scope = access.audit_scope(principal)
    q = select(AuditEvent)
    if scope is not None:
        q = q.where(or_(AuditEvent.department_id == scope, AuditEvent.actor_department == scope))
    f = filters
    for column, value in ((AuditEvent.action, f.action), (AuditEvent.actor, f.actor),
                          (AuditEvent.outcome, f.outcome), (AuditEvent.subject, f.subject),
                          (AuditEvent.department_id, f.department_id)):
        if value is not None:
            q = q.where(column == value)
    if f.since is not None:
        q = q.where(AuditEvent.at >= f.since)
    if f.until is not None:
        q = q.where(AuditEvent.at < f.until)
    after = decode_cursor(cursor)
    if after is not None:
        q = q.where(AuditEvent.id < after)
    rows = list(session.scalars(q.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    record(session, actor=principal.actor, actor_department=principal.department_id, action="audit.read",
           department_id=scope, details={"filters": {k: v for k, v in vars(f).items() if v is not None
                                                      and k not in ("since", "until")}, "count": len(rows)})
    return rows, encode_cursor(rows[-1].id) if more and rows else None
