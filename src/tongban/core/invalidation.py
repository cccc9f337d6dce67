"""Per-process caches of database rows (bearer tokens, the service catalogue) forget what they
hold as soon as this process changes the tables they were read from: one set of SQLAlchemy
listeners, so every such cache notices the same kinds of change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session


def forget_on_change(name: str, watched: tuple[type, ...], forget: Callable[[Session], None]) -> None:
    """Call `forget(session)` when a session flushes a change to a row of a `watched` model or
    runs an ORM bulk INSERT, UPDATE or DELETE on one, and again once that session commits: a
    request may have read (and cached) the old rows between the flush and the commit. `name`
    marks the session (`session.info["tongban.<name>_touched"]`) between the two."""
    touched = f"tongban.{name}_touched"

    def after_flush(session: Session, _context: Any) -> None:
        if any(isinstance(obj, watched) for objs in (session.new, session.dirty, session.deleted) for obj in objs):
            session.info[touched] = True
            forget(session)

    def on_execute(state: Any) -> None:
        if (state.is_insert or state.is_update or state.is_delete) and state.bind_mapper is not None \
                and issubclass(state.bind_mapper.class_, watched):
            state.session.info[touched] = True
            forget(state.session)

    def after_commit(session: Session) -> None:
        if session.info.pop(touched, False):
            forget(session)

    event.listen(Session, "after_flush", after_flush)
    event.listen(Session, "do_orm_execute", on_execute)
    event.listen(Session, "after_commit", after_commit)
