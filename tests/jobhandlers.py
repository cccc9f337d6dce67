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
