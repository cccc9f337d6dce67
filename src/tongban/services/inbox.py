"""你的消息: application events in the resident's in-app inbox, written in the transaction of
the event itself (so a notice exists only if what it tells about committed). The engagement
layer will take this over and add channels."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import access, paging
from tongban.core.audit.log import record
from tongban.core.i18n import N_, gettext
from tongban.core.timeutil import utcnow
from tongban.services.models import InboxMessage

TITLES = {
    "application.submitted": N_("Your application has been submitted"),
    "task.returned": N_("A department asks you to supplement your application"),
    "task.rejected": N_("Part of your application was rejected"),
    "application.finished": N_("Your application is finished"),
    "application.withdrawn": N_("Your application was withdrawn"),
    "task.public_notice": N_("Your application is in public notice"),
    "task.objection": N_("An objection was raised during the public notice; your application is reviewed again"),
    "screening.offer": N_("You may be entitled to a benefit"),
    "certificate.revoked": N_("A certificate in your wallet was revoked"),
}


def notify(session: Session, *, account_id: int | None, kind: str, application_id: int | None,
           params: dict[str, Any] | None = None) -> InboxMessage | None:
    """Leave a notice in the account's inbox; a resident without an account (filed for at a
    counter) has no inbox, so nothing is left."""
    if kind not in TITLES:
        raise ValueError(f"unknown message kind {kind!r}")
    if account_id is None:
        return None
    message = InboxMessage(account_id=account_id, kind=kind, application_id=application_id, params=params or {})
    session.add(message)
    return message


def message_dict(m: InboxMessage) -> dict[str, Any]:
    return {"id": m.id, "kind": m.kind, "title": gettext(TITLES[m.kind]), "application_id": m.application_id,
            "params": m.params, "created_at": m.created_at, "read_at": m.read_at}


def my_messages(session: Session, *, principal: access.Principal, limit: int = paging.DEFAULT_LIMIT,
                cursor: str | None = None) -> tuple[list[InboxMessage], str | None]:
    """The caller's messages, newest first, one page, and the cursor of the next (None on the last)."""
    access.require(principal, "self.read")
    paging.check_limit(limit)
    q = select(InboxMessage).where(InboxMessage.account_id == principal.account_id)
    if (before := paging.decode_cursor(cursor)) is not None:
        q = q.where(InboxMessage.id < before)
    rows = list(session.scalars(q.order_by(InboxMessage.id.desc()).limit(limit + 1)))
    return paging.page_of(rows, limit, key=lambda m: m.id)


def mark_read(session: Session, *, principal: access.Principal, message_id: int) -> InboxMessage:
    """Mark one of the caller's messages as read (again is a no-op)."""
    access.require(principal, "self.read")
    message = session.get(InboxMessage, message_id)
    if message is None or message.account_id != principal.account_id:
        raise access.NotYours(N_("No such message"), principal=principal, action="message.read")
    if message.read_at is None:
        message.read_at = utcnow()
        record(session, actor=principal.actor, action="message.read", subject=f"message:{message.id}")
    return message
