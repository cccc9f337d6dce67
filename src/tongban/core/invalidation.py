"""Per-process caches of database rows (bearer tokens, the service catalogue, the working-day
calendar) forget what they hold as soon as this process changes the tables they were read from:
one set of SQLAlchemy listeners, so every such cache notices the same kinds of change; and one
small cache of a value per database (`DatabaseCache`) that the catalogue and the calendar share.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

T = TypeVar("T")


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


@dataclass(frozen=True)
class _Held(Generic[T]):
    key: Hashable
    value: T
    checked_at: float  # time.monotonic() when the key was last read from the database


class DatabaseCache(Generic[T]):
    """A value built from database rows that change rarely (the service catalogue, the
    working-day calendar), held per database URL in this process:

    - a unit of work reads it at most once (kept in `session.info`), so it sees one value;
    - every `recheck_seconds` one small query (`key(session)`) tells whether another process
      changed the rows; only a changed key rebuilds the value (`load(session, key)`);
    - a flush or commit in this process that touches a `watched` model forgets it at once
      (`forget_on_change`), and a value read while that happened is not kept.

    The value is shared between requests and threads: read it, never change it."""

    def __init__(self, name: str, watched: tuple[type, ...], *, recheck_seconds: float,
                 key: Callable[[Session], Hashable], load: Callable[[Session, Any], T]) -> None:
        self.name = name
        self.recheck_seconds = recheck_seconds
        self._key, self._load = key, load
        self._session_key = f"tongban.{name}"
        self._lock = threading.Lock()
        self._held: dict[str, _Held[T]] = {}
        self._generation = 0  # bumped by every forget
        forget_on_change(name, watched, self.forget)

    def get(self, session: Session) -> T:
        if self._session_key in session.info:
            return session.info[self._session_key]  # type: ignore[no-any-return]
        url = str(session.get_bind().engine.url)
        generation = self._generation
        held = self._held.get(url)
        if held is None or time.monotonic() - held.checked_at >= self.recheck_seconds:
            key = self._key(session)
            if held is None or held.key != key:
                held = _Held(key, self._load(session, key), time.monotonic())
            else:
                held = replace(held, checked_at=time.monotonic())
            with self._lock:
                if self._generation == generation:  # nothing changed the rows here while we read them
                    self._held[url] = held
        session.info[self._session_key] = held.value
        return held.value

    def forget(self, session: Session | None = None) -> None:
        """Drop the value everywhere in this process (and from `session`'s unit of work)."""
        if session is not None:
            session.info.pop(self._session_key, None)
        with self._lock:
            self._generation += 1
            self._held.clear()
