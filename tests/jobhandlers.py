"""Job handlers used by the job tests (loaded with `--import tests.jobhandlers`)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.orm import Session

from tongban.core.audit.log import record
from tongban.core.jobs.registry import handler


@handler("test.effect")
def effect(session: Session, payload: dict[str, Any]) -> None:
    record(session, actor="system:test", action="test.effect", subject=str(payload["key"]))


@handler("test.fail")
def fail(session: Session, payload: dict[str, Any]) -> None:
    record(session, actor="system:test", action="test.effect", subject="never")
    raise RuntimeError("handler failed on purpose")


@handler("test.block")
def block(session: Session, payload: dict[str, Any]) -> None:
    """Write the effect, then hang before returning (the test kills the worker here)."""
    record(session, actor="system:test", action="test.effect", subject=str(payload["key"]))
    session.flush()
    marker = payload.get("marker")
    if marker:
        with open(marker, "w") as fh:
            fh.write("started")
    time.sleep(float(payload.get("sleep", 60)))


@handler("test.slow")
def slow(session: Session, payload: dict[str, Any]) -> None:
    """Take a while without touching the database, then write the effect."""
    time.sleep(float(payload["sleep"]))
    record(session, actor="system:test", action="test.effect", subject=str(payload["key"]))


@handler("test.duplicate")
def duplicate(session: Session, payload: dict[str, Any]) -> None:
    """Fail inside the database: a second job with an existing dedupe key (a unique violation)."""
    from tongban.core.jobs.queue import enqueue

    enqueue(session, kind="test.effect", payload={}, dedupe_key=str(payload["dedupe_key"]))


@handler("test.noop")
def noop(session: Session, payload: dict[str, Any]) -> None:
    """Does nothing: measures the queue's own cost per job."""
