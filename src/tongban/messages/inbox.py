"""The inbox (你的消息 for residents, 我的提醒 for staff): one's own messages, newest first, read
state, rendered in the reader's language from the pack's templates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.core import access, clock, paging
from tongban.core.audit.log import record
from tongban.core.i18n import N_
from tongban.messages import outbox, templates
from tongban.messages.contacts import _owner
from tongban.messages.models import Message


def _templates(session: Session) -> dict[str, dict[str, Any]]:
    return {kind: t["definition"] for kind, t in outbox._templates(session).items()}


def my_messages(session: Session, *, principal: access.Principal, limit: int = paging.DEFAULT_LIMIT,
                cursor: str | None = None, unread: bool = False) -> tuple[list[dict[str, Any]], str | None]:
    """The caller's messages, newest first, one page, and the cursor of the next (None on the last)."""
    account_id = _owner(principal)
    paging.check_limit(limit)
    q = select(Message).where(Message.account_id == account_id, Message.hidden.is_(False))
    if unread:
        q = q.where(Message.read_at.is_(None))
    if (before := paging.decode_cursor(cursor)) is not None:
        q = q.where(Message.id < before)
    rows, next_cursor = paging.page_of(list(session.scalars(q.order_by(Message.id.desc()).limit(limit + 1))),
                                       limit, key=lambda m: m.id)
    defs = _templates(session)
    return [message_dict(m, defs.get(m.kind)) for m in rows], next_cursor


def unread_count(session: Session, *, principal: access.Principal) -> int:
    account_id = _owner(principal)
    return int(session.scalar(select(func.count()).select_from(Message).where(
        Message.account_id == account_id, Message.hidden.is_(False), Message.read_at.is_(None))) or 0)


def message_dict(m: Message, definition: dict[str, Any] | None) -> dict[str, Any]:
    title, body = templates.render(definition, m.params) if definition else (m.kind, "")
    return {"id": m.id, "uid": m.uid, "kind": m.kind, "title": title, "body": body, "link": m.link,
            "application_id": m.application_id, "params": m.params, "urgent": m.urgent,
            "created_at": m.created_at, "read_at": m.read_at}


def get_message(session: Session, *, principal: access.Principal, message_id: int) -> Message:
    account_id = _owner(principal)
    message = session.get(Message, message_id)
    if message is None or message.account_id != account_id or message.hidden:
        raise access.NotYours(N_("No such message"), principal=principal, action="message.read")
    return message


def mark_read(session: Session, *, principal: access.Principal, message_id: int) -> dict[str, Any]:
    """Mark one of the caller's messages as read (again is a no-op)."""
    message = get_message(session, principal=principal, message_id=message_id)
    if message.read_at is None:
        message.read_at = clock.now()
        record(session, actor=principal.actor, action="message.read", subject=f"message:{message.id}")
    return message_dict(message, _templates(session).get(message.kind))
