"""The overdue watch of 好差评: every hour, rectifications past the due date of their current step
(回访, 整改, 答复) are flagged and their department told, each once."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tongban.core.jobs.registry import handler, schedule
from tongban.ratings import service


@handler("ratings.overdue")
def run_overdue(session: Session, payload: dict[str, Any]) -> None:
    service.flag_overdue(session)


schedule("ratings.overdue", "ratings.overdue", interval_seconds=3600)
