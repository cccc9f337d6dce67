"""Audit log browsing: GET /api/v1/audit/events (auditors; department admins for their department)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from pydantic import BaseModel

from tongban.core.audit.query import EventFilter, list_events
from tongban.webkit.deps import CurrentPrincipal, DbSession
from tongban.webkit.schemas import Page

router = APIRouter(prefix="/audit", tags=["audit"])


class EventOut(BaseModel):
    id: int
    seq: int | None
    at: dt.datetime
    actor: str
    actor_department: str | None
    action: str
    outcome: str
    subject: str | None
    department_id: str | None
    region_code: str | None
    purpose: str | None
    details: dict[str, Any]
    prev_hash: str | None
    hash: str | None


@router.get("/events", response_model=Page[EventOut])
def events(
    session: DbSession,
    principal: CurrentPrincipal,
    action: str | None = None,
    actor: str | None = None,
    outcome: str | None = None,
    subject: str | None = None,
    department_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[EventOut]:
    """Audit events, newest first, filtered; `next_cursor` fetches the next page."""
    rows, next_cursor = list_events(
        session, principal=principal, limit=limit, cursor=cursor,
        filters=EventFilter(action=action, actor=actor, outcome=outcome, subject=subject,
                            department_id=department_id, since=since, until=until),
    )
    items = [EventOut(id=e.id, seq=e.seq, at=e.at, actor=e.actor, actor_department=e.actor_department,
                      action=e.action, outcome=e.outcome, subject=e.subject, department_id=e.department_id,
                      region_code=e.region_code, purpose=e.purpose, details=orjson.loads(e.details),
                      prev_hash=e.prev_hash, hash=e.hash) for e in rows]
    return Page(items=items, next_cursor=next_cursor)
