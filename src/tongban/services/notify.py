"""What the services tell people, through the messaging slice (`tongban.messages.send`): the
applicant about their application — naming the item (or one-thing) and the step — and the staff
of a department about new tasks in their queue and deadlines (时限预警)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tongban import messages
from tongban.services import catalogue
from tongban.services.models import Application, Task

MESSAGE_KINDS = ("application.submitted", "application.finished", "application.withdrawn", "task.returned",
         "task.rejected", "task.public_notice", "task.objection", "task.new", "task.deadline_warning",
         "task.overdue", "certificate.revoked")  # what the services slice sends (`messages.kinds`)

# The application-level steps a message may name (the task-level ones name the task's item).
STEPS: dict[str, dict[str, str]] = {
    "submitted": {"zh": "已提交，等待部门受理", "en": "submitted, waiting for the departments"},
    "completed": {"zh": "全部办结", "en": "all done"},
    "partly_completed": {"zh": "部分办结", "en": "partly done"},
    "rejected": {"zh": "未获通过", "en": "rejected"},
    "withdrawn": {"zh": "已撤回", "en": "withdrawn"},
}


def item_title(session: Session, item_id: str) -> dict[str, str]:
    return dict(catalogue.current(session).item(item_id).definition["title"])


def application_title(session: Session, app: Application) -> dict[str, str]:
    """The one-thing's title, or the single item's."""
    cat = catalogue.current(session)
    if app.onething_id:
        return dict(cat.onething(app.onething_id).definition["title"])
    return dict(cat.item(app.item_id).definition["title"]) if app.item_id else {"zh": "", "en": ""}


def applicant(session: Session, app: Application, kind: str, *, task: Task | None = None,
              step: str | None = None, **params: Any) -> None:
    """Tell the applicant (if they have an account) about `app`: the step is the task's item, or
    one of STEPS."""
    named = item_title(session, task.item_id) if task is not None else STEPS.get(step or "", {"zh": "", "en": ""})
    messages.send(session, to=app.applicant_account_id, kind=kind, application_id=app.id,
                  link=f"/portal/applications/{app.id}",
                  params={"item": application_title(session, app), "step": named, **params})


def new_task(session: Session, app: Application, task: Task) -> None:
    """A task became ready: everyone who works the department's queue is told."""
    messages.send(session, to=messages.Queue(task.department_id), kind="task.new", application_id=app.id,
                  link=f"/workbench/tasks/{task.id}",
                  params={"item": item_title(session, task.item_id), "application": app.id, "task": task.id,
                          "due_date": task.due_date.isoformat() if task.due_date else ""})


def deadline(session: Session, app: Application, task: Task, kind: str, standing: dict[str, Any]) -> None:
    """80 % used or overdue: the officer who holds the task is told, or the whole queue if nobody does."""
    to: int | messages.Queue = task.assignee_account_id or messages.Queue(task.department_id)
    messages.send(session, to=to, kind=kind, application_id=app.id, link=f"/workbench/tasks/{task.id}",
                  params={"item": item_title(session, task.item_id), "application": app.id, "task": task.id,
                          "due_date": str(standing["due_date"]), "used": standing["working_days_used"],
                          "allowed": standing["working_days_allowed"]})
