"""Messages (消息): inboxes for residents and staff, a transactional outbox, and the e-mail and
SMS channels. Other slices call one function — see docs/messages.md:

    from tongban import messages
    messages.send(session, to=account_id, kind="application.submitted",
                  params={"item": {...}, "step": {...}}, link="/portal/applications/7")

`to` is an account id, `messages.Queue(department_id)` (the staff who work that queue) or None
(nothing is sent). The message is written in the caller's transaction and goes out only if it
commits. `messages.batch(session)` around several sends writes them in one INSERT.

The names load on first use, so that reading the slice's declaration imports nothing heavy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tongban.messages.outbox import Queue, batch, send

__all__ = ["Queue", "batch", "send"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tongban.messages import outbox

        return getattr(outbox, name)
    raise AttributeError(f"module 'tongban.messages' has no attribute {name!r}")
