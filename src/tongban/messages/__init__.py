"""Messages (消息): inboxes for residents and staff, a transactional outbox, and the e-mail and
SMS channels. Other slices call one function — see docs/messages.md:

    from tongban import messages
    messages.send(session, to=account_id, kind="application.submitted",
                  params={"item": {...}, "step": {...}}, link="/portal/applications/7")

`to` is an account id, `messages.Queue(department_id)` (the staff who work that queue) or None
(nothing is sent). The message is written in the caller's transaction and goes out only if it
commits. `messages.batch(session)` around several sends writes them in one INSERT."""

from tongban.messages.outbox import Queue, batch, send

__all__ = ["Queue", "batch", "send"]
