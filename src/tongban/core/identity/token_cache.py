"""Bearer tokens this process has just resolved: token digest → principal, for a few seconds.

Every API request starts by resolving its bearer token (the token, its account, roles and their
permissions). Remembering the answer briefly spares that query — and the thread hop it needs —
on the requests that follow with the same token. It stays safe because:

- an entry lives at most `TTL_SECONDS` and never past the token's own expiry;
- any change this process flushes to tokens, accounts, their roles, roles' permissions, API
  clients or departments (a logout, a revocation, a deactivation, a role change) empties the
  cache at once;
- a change made by another process (another worker, the CLI) takes effect within `TTL_SECONDS`.

Only live tokens are remembered; an unknown, revoked or expired token is looked up every time.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from tongban.core.access import Principal
from tongban.core.identity.models import Account, AccountRole, ApiClient, AuthToken, Department, Role

TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000
_WATCHED = (AuthToken, Account, AccountRole, Role, ApiClient, Department)

_lock = threading.Lock()
_entries: dict[tuple[str, str], tuple[float, Principal]] = {}  # (db, digest) → (valid until, principal)
_generation = 0


def get(db: str, digest: str) -> Principal | None:
    entry = _entries.get((db, digest))
    if entry is None or entry[0] <= time.monotonic():
        return None
    return entry[1]


def generation() -> int:
    return _generation


def put(db: str, digest: str, principal: Principal, expires_at: dt.datetime, seen_generation: int) -> None:
    """Remember a live token's principal (unless the identity tables changed since it was read)."""
    left = (expires_at - dt.datetime.now(dt.UTC)).total_seconds()
    if left <= 0:
        return
    with _lock:
        if seen_generation != _generation:
            return
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[(db, digest)] = (time.monotonic() + min(TTL_SECONDS, left), principal)


def clear() -> None:
    global _generation
    with _lock:
        _generation += 1
        _entries.clear()


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    if any(isinstance(obj, _WATCHED) for objs in (session.new, session.dirty, session.deleted) for obj in objs):
        session.info["tongban.identity_touched"] = True
        clear()


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: Any) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and state.bind_mapper is not None \
            and issubclass(state.bind_mapper.class_, _WATCHED):
        state.session.info["tongban.identity_touched"] = True
        clear()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # Again once committed: a request may have read the old rows between the flush and the commit.
    if session.info.pop("tongban.identity_touched", False):
        clear()
