"""What every page shows about the caller's display: 长辈版 (elder mode) and the help line.

长辈版 is the account's preference (`Account.elder_mode`, so it follows the resident to any device
and outlives a session) and, for a visitor not signed in, the `tongban_elder` cookie. The help line
(帮办热线) is the pack's: the nearest `help_line` up the region tree from the caller's region, else
the one nearest the root (a visitor's), read from the database at most once a minute.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi import Request
from sqlalchemy import select

from tongban.core.access import Principal
from tongban.core.identity.models import Region

ELDER_COOKIE = "tongban_elder"
ELDER_ON, ELDER_OFF = "on", "off"
REFRESH_SECONDS = 60.0
_LEVELS = ("province", "city", "county", "street", "community")
_lock = threading.Lock()
_cache: dict[int, tuple[float, dict[str, tuple[str | None, str | None]], str | None]] = {}


def elder_mode(request: Request, principal: Principal | None) -> bool:
    """Is 长辈版 on for this page? The account's preference when signed in, else the cookie."""
    if principal is not None and principal.account_id is not None:
        return principal.elder_mode
    return request.cookies.get(ELDER_COOKIE) == ELDER_ON


def _tree(db: Any) -> tuple[dict[str, tuple[str | None, str | None]], str | None]:
    with db.unit_of_work() as session:
        rows = session.execute(select(Region.code, Region.parent_code, Region.help_line, Region.level)).all()
    tree = {code: (parent, line) for code, parent, line, _level in rows}
    with_line = [(_LEVELS.index(level) if level in _LEVELS else 9, code, line)
                 for code, _parent, line, level in rows if line]
    top = min(with_line)[2] if with_line else None
    return tree, top


def help_line(request: Request, principal: Principal | None) -> str | None:
    """The help-line number for this caller (None when the pack names none)."""
    db = getattr(request.app.state, "db", None)
    if db is None:
        return None
    now = time.monotonic()
    cached = _cache.get(id(db))
    if cached is None or now - cached[0] > REFRESH_SECONDS:
        try:
            tree, top = _tree(db)
        except Exception:  # a page (an error page above all) must not fail for want of this line
            return cached[2] if cached else None
        with _lock:
            cached = _cache[id(db)] = (now, tree, top)
    _, tree, top = cached
    code = principal.region_code if principal is not None else None
    for _ in range(len(_LEVELS) + 1):
        if not code or code not in tree:
            break
        parent, line = tree[code]
        if line:
            return line
        code = parent
    return top


def forget() -> None:
    """Drop the cached region tree (after a pack load, in tests)."""
    with _lock:
        _cache.clear()
