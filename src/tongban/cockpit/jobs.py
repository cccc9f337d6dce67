"""The cockpit's refresh job: every two minutes the store takes in the days that changed (and
today's stocks) and the warning rules are evaluated, so no figure is older than five minutes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tongban.cockpit import store
from tongban.core.jobs.registry import handler, schedule


@handler("cockpit.refresh")
def run_refresh(session: Session, payload: dict[str, Any]) -> None:
    store.refresh(session, full=bool(payload.get("full")))


schedule("cockpit.refresh", "cockpit.refresh", interval_seconds=120)
