"""Appending to the audit chain.

`record()` inserts an event in the caller's own transaction, so the event exists exactly
when the action it describes does. Linking it into the hash chain (sequence number,
previous hash, own hash) is done by `tongban.core.audit.chain.seal`, run once the
transaction commits (inline, or batched by a background sealer in the web app) and by the worker: concurrent submissions then never queue on one
head row while they hold their own locks (see docs/operator.md, "Audit chain").
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.orm import Session

from tongban.core.audit.models import AuditEvent
from tongban.core.timeutil import utcnow


def canonical_json(data: Any) -> str:
    """Sorted-key JSON. An integer beyond 64 bits (orjson's range) is written as its decimal
    string, so whatever a caller sent can still be described in an audit event or hashed."""
    try:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError:
        return orjson.dumps(_big_ints_as_text(data), option=orjson.OPT_SORT_KEYS).decode()


def _big_ints_as_text(data: Any) -> Any:
    if isinstance(data, bool):
        return data
    if isinstance(data, int) and not -(2**63) <= data < 2**64:
        return str(data)
    if isinstance(data, dict):
        return {k: _big_ints_as_text(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_big_ints_as_text(v) for v in data]
    return data


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    actor_department: str | None = None,
    subject: str | None = None,
    department_id: str | None = None,
    region_code: str | None = None,
    purpose: str | None = None,
    outcome: str = "ok",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in `session`'s transaction. Keep personal data out of `details`."""
    event = AuditEvent(
        at=utcnow(),
        actor=actor,
        actor_department=actor_department,
        action=action,
        outcome=outcome,
        subject=subject,
        department_id=department_id,
        region_code=region_code,
        purpose=purpose,
        details=canonical_json(details or {}),
    )
    session.add(event)
    _seal_after_commit(session)
    return event


def _seal_after_commit(session: Session) -> None:
    from tongban.core.db import after_commit

    bind = session.get_bind()
    after_commit(session, _Sealer(bind))


class _Sealer:
    """Hook object (hashable by engine) so one unit of work seals once."""

    def __init__(self, bind: Any) -> None:
        self.engine = bind.engine if hasattr(bind, "engine") else bind

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Sealer) and other.engine is self.engine

    def __hash__(self) -> int:
        return id(self.engine)

    def __call__(self) -> None:
        from tongban.core.audit.chain import after_commit

        after_commit(self.engine)
