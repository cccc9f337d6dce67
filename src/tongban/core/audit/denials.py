"""Refusals of signed-in callers, coalesced (issue #18 item 5).

Every refusal of a signed-in caller is audited, but a flood of them must not write a chained
row each (a resident hammering an admin URL could otherwise grow the chain by thousands of rows
a minute). They are coalesced per actor, action (the permission or check refused) and minute:

- the first refusal of a window is written to the chain at once (`access.denied`, `count` 1),
  and opens a row in `audit_denial_window` (a plain counter table, outside the chain);
- each further refusal of the same actor and action in the same minute only adds one to that
  row's `count` — no chain row;
- when the window is over, one more chained `access.denied` event carries the number of
  refusals coalesced (`count`, with `coalesced: true` and the window's minute), and the counter
  row is deleted. A window is closed by the next refusal of anyone after its minute, and by the
  `audit.denials` job every minute, whichever comes first. A window with nothing coalesced
  closes without an event.

The chain stays append-only: counters are never chained rows that change. The total number of
refusals is the sum of `count` over the `access.denied` events, plus the counts of windows still
open (at most a minute's worth). A close is guarded (the row is deleted only with the count that
was read), so two processes closing one window write its event once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tongban.core.audit import log as audit_log
from tongban.core.audit.log import canonical_json
from tongban.core.audit.models import AuditDenialWindow
from tongban.core.timeutil import utcnow

ACTION = "access.denied"


def window_of(at: dt.datetime) -> dt.datetime:
    """The minute `at` falls in."""
    return at.replace(second=0, microsecond=0)


def record_refusal(session: Session, *, actor: str, actor_department: str | None, needed: str,
                   details: dict[str, Any], now: dt.datetime | None = None) -> bool:
    """Count one refusal in `session`'s transaction; True if it wrote a chained event (the first
    of its window), False if it was coalesced into an open window. Closes windows that are over."""
    now = now or utcnow()
    window = window_of(now)
    needed = needed[:200]
    close_expired(session, now=now)
    counted = session.execute(
        update(AuditDenialWindow)
        .where(AuditDenialWindow.actor == actor, AuditDenialWindow.action == needed,
               AuditDenialWindow.window_start == window)
        .values(count=AuditDenialWindow.count + 1, last_at=now)
        .execution_options(synchronize_session=False))
    if getattr(counted, "rowcount", 0):
        return False
    # The first refusal of this window. A concurrent first one makes the insert fail on the unique
    # key: the caller's transaction is retried, and then finds the window and counts into it.
    session.add(AuditDenialWindow(actor=actor, action=needed, window_start=window, count=0,
                                  actor_department=actor_department, first_at=now, last_at=now,
                                  details=canonical_json(details)))
    session.flush()
    audit_log.record(session, actor=actor, action=ACTION, outcome="denied", actor_department=actor_department,
           details={**details, "needed": needed, "count": 1, "window": window.isoformat()})
    return True


def close_expired(session: Session, *, now: dt.datetime | None = None, everything: bool = False) -> int:
    """Close every window whose minute is over (`everything`: all of them, e.g. before a test or an
    operator counts); return how many coalescing events were written."""
    query = select(AuditDenialWindow.id, AuditDenialWindow.count)
    if not everything:
        query = query.where(AuditDenialWindow.window_start < window_of(now or utcnow()))
    written = 0
    for row_id, count in session.execute(query.order_by(AuditDenialWindow.id)).all():
        window = session.get(AuditDenialWindow, row_id)
        if window is None:
            continue
        actor, needed, department = window.actor, window.action, window.actor_department
        start, last_at, details = window.window_start, window.last_at, orjson.loads(window.details or "{}")
        session.expunge(window)
        gone = session.execute(
            delete(AuditDenialWindow).where(AuditDenialWindow.id == row_id, AuditDenialWindow.count == count)
            .execution_options(synchronize_session=False))
        if getattr(gone, "rowcount", 0) != 1 or not count:
            continue  # another process closed it (or is counting into it), or nothing was coalesced
        audit_log.record(session, actor=actor, action=ACTION, outcome="denied", actor_department=department,
               details={**details, "needed": needed, "count": count, "coalesced": True,
                        "window": start.isoformat(), "last_at": last_at.isoformat()})
        written += 1
    return written


def open_counts(session: Session) -> int:
    """Refusals counted in windows not closed yet (not in the chain yet)."""
    return sum(session.scalars(select(AuditDenialWindow.count)))
