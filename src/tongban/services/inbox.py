"""你的消息: application events in the resident's in-app inbox, written in the transaction of
the event itself (so a notice exists only if what it tells about committed). The engagement
layer will take this over and add channels."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import access
from tongban.core.i18n import N_, gettext
from tongban.services.models import InboxMessage

TITLES = {
    "application.submitted": N_("Your application has been submitted"),
    "task.returned": N_("A department asks you to supplement your application"),
    "task.rejected": N_("Part of your application was rejected"),
    "application.finished": N_("Your application is finished"),
    "application.withdrawn": N_("Your application was withdrawn"),
    "screening.offer": N_("You may be entitled to a benefit"),
}


def notify(session: Session, *, account_id: int, kind: str, application_id: int | None,
           params: dict[str, Any] | None = None) -> InboxMessage:
    if kind not in TITLES:
        raise ValueError(f"unknown message kind {kind!r}")
    message = InboxMessage(account_id=account_id, kind=kind, application_id=application_id, params=params or {})
    session.add(message)
    return message


def message_dict(m: InboxMessage) -> dict[str, Any]:
    return {"id": m.id, "kind": m.kind, "title": gettext(TITLES[m.kind]), "application_id": m.application_id,
            "params": m.params, "created_at": m.created_at, "read_at": m.read_at}


def my_messages(session: Session, *, principal: access.Principal, limit: int = 50,
                before_id: int | None = None) -> list[InboxMessage]:
    access.require(principal, "self.read")
    q = select(InboxMessage).where(InboxMessage.account_id == principal.account_id)
    if before_id is not None:
        q = q.where(InboxMessage.id < before_id)
    return list(session.scalars(q.order_by(InboxMessage.id.desc()).limit(limit)))
