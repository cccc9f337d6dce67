"""Which tasks a member of staff may touch: their department's, for applications in their region."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.core import access
from tongban.core.errors import NotFound
from tongban.core.i18n import N_
from tongban.services.models import Application, Task


def task_in_reach(session: Session, principal: access.Principal, task_id: int) -> tuple[Task, Application]:
    """The task and its application, if the task is the caller's department's and the application
    is in the caller's region (NotFound if there is no such task; refused otherwise)."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(N_("No such task"))
    app = session.get_one(Application, task.application_id)
    access.require_department(principal, task.department_id)
    access.require_region(principal, app.region_code)
    return task, app
