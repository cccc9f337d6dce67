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

from tongban.core import clock
from tongban.core.access import Principal
from tongban.core.identity.models import Account, AccountRole, ApiClient, AuthToken, Department, Role
from tongban.core.invalidation import forget_on_change

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
    left = (expires_at - clock.now()).total_seconds()
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


forget_on_change("identity", _WATCHED, lambda _session: clear())
