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

# Modules whose import registers the core handlers and schedules.
CORE_MODULES = (
    "tongban.core.jobs.builtin",
    "tongban.core.blobs",
    "tongban.datahub.exchange",
    "tongban.governance.quality",
    "tongban.services.deadlines",
    "tongban.services.notice",
    "tongban.screening.jobs",
)


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
    for name in (*CORE_MODULES, *modules):
        importlib.import_module(name)
