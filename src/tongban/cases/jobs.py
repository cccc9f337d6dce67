"""The overdue watch of the case engine: every quarter of an hour, open cases past their due
date in a department's hands are flagged and supervised (督办), each once."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tongban.cases import engine
from tongban.core.jobs.registry import handler, schedule


@handler("cases.overdue")
def run_overdue(session: Session, payload: dict[str, Any]) -> None:
    engine.flag_overdue(session)


schedule("cases.overdue", "cases.overdue", interval_seconds=900)
