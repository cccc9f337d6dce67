"""Job handlers and periodic schedules, registered by kind from code."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

Handler = Callable[[Session, dict[str, Any]], None]

_handlers: dict[str, Handler] = {}


@dataclass(frozen=True)
class Schedule:
    name: str
    kind: str
    interval_seconds: int
    payload: dict[str, Any] = field(default_factory=dict)


_schedules: dict[str, Schedule] = {}



def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register `fn(session, payload)` as the handler of jobs of `kind`.

    The handler runs inside the transaction that marks the job done: whatever it writes to the
    database is committed together with that mark, or not at all.
    """

    def decorate(fn: Handler) -> Handler:
        _handlers[kind] = fn
        return fn

    return decorate


def schedule(name: str, kind: str, interval_seconds: int, payload: dict[str, Any] | None = None) -> None:
    """Declare a periodic job; workers upsert it at start and enqueue it every interval."""
    _schedules[name] = Schedule(name, kind, interval_seconds, payload or {})


def get_handler(kind: str) -> Handler | None:
    return _handlers.get(kind)


def schedules() -> list[Schedule]:
    return list(_schedules.values())


def load_modules(modules: list[str] | tuple[str, ...]) -> None:
    """Register the handlers and schedules every slice declares (core.slices), then `modules`."""
    from tongban.core import slices

    slices.load_jobs()
    for name in modules:
        importlib.import_module(name)
