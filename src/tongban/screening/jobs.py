"""Screening as background work: a daily run repeating the latest staff-started run (same
department's grant, region, policies and backend, as of today), and the offers' inbox messages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import access
from tongban.core.identity.models import Department
from tongban.core.jobs.registry import handler, schedule
from tongban.screening import offers as _offers  # noqa: F401 - registers screening.notify_offers
from tongban.screening.models import ScreeningRun
from tongban.screening.runs import RunRequest, screen

SCHEDULER = "screening-scheduler"


def scheduler_principal(session: Session, department_id: str, region_code: str | None,
                        client_id: str = SCHEDULER) -> access.Principal:
    """Who a scheduled (or command-line) run acts as: the department whose grant it reads on, in its region."""
    from tongban.core.errors import Invalid
    from tongban.core.i18n import N_

    dept = session.get(Department, department_id)
    if dept is None:
        raise Invalid(N_("No such department"), field="department")
    return access.Principal(kind="staff", client_id=client_id, department_id=dept.id,
                            region_code=region_code or dept.region_code, permissions=frozenset({"person.read"}))


@handler("screening.scheduled")
def scheduled_run(session: Session, payload: dict[str, Any]) -> None:
    from tongban.core.config import get_settings

    last = session.scalars(select(ScreeningRun).where(ScreeningRun.status == "done",
                                                      ScreeningRun.department_id.is_not(None))
                           .order_by(ScreeningRun.id.desc()).limit(1)).first()
    if last is None or last.department_id is None:
        return  # nobody has screened yet: nothing to repeat
    principal = scheduler_principal(session, last.department_id, last.region_code)
    screen(session, principal=principal, var_dir=get_settings().var_dir,
           req=RunRequest(policy_ids=list(last.policy_ids), region_code=last.region_code, backend=last.backend,
                          source=last.source))


schedule("screening.daily", "screening.scheduled", interval_seconds=86_400)
