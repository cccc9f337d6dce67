"""The transactional outbox: `send` writes the message — the in-app inbox and the outbox
record at once — in the caller's transaction, so a message exists and goes out only if what
it tells about committed. A relay job (`messages.dispatch`, every few seconds) turns new
messages into one delivery per outside channel the recipient chose, delayed past their quiet
hours unless the kind is urgent, each with its own job; the worker (`messages.deliver`) hands
a delivery to its channel with the message's stable id, records the outcome, and on failure
tries again with the job queue's back-off."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tongban.core import clock
from tongban.core.audit.log import record
from tongban.core.identity.models import Account, AccountRole, Role
from tongban.core.invalidation import forget_on_change
from tongban.core.jobs.queue import backoff, enqueue
from tongban.core.jobs.registry import handler, schedule
from tongban.messages import channels, templates
from tongban.messages.models import ContactPoint, Delivery, Message, MessageTemplate, Preference

log = logging.getLogger("tongban.messages")

OUTSIDE = ("email", "sms")
MAX_ATTEMPTS = 6
VERIFY_KIND = "contact.verify"
MESSAGE_KINDS = (VERIFY_KIND,)  # sent (`messages.kinds`)
DISPATCH_EVERY_SECONDS = 5
DISPATCH_BATCH = 500
CACHE_SECONDS = 30.0
T = TypeVar("T")


@dataclass(frozen=True)
class Queue:
    """The addressee "everyone who works this department's queue" (active staff holding task.decide)."""

    department_id: str


def send(session: Session, *, to: int | Queue | None, kind: str, params: dict[str, Any] | None = None,
         link: str | None = None, application_id: int | None = None) -> list[str]:
    """Send a message of `kind` (a template of the pack) to an account or a department's queue.

    `params` fill the template's placeholders (a value may be `{zh: …, en: …}`; keep personal
    data out — the recipient sees the rest on the linked page); `link` is a path in the app
    (`/portal/offers/7`). The message is in the recipient's inbox at once and goes out on the
    channels they chose after the caller's transaction commits — never if it rolls back.
    `to=None` (an applicant without an account) sends nothing. Returns the messages' stable ids."""
    template = _templates(session).get(kind)
    if template is None:
        raise ValueError(f"unknown message kind {kind!r} (not in the pack's messages.yaml)")
    params = dict(params or {})
    missing = templates.placeholders(template["definition"]) - set(params)
    if missing:
        raise ValueError(f"message {kind!r} needs params {sorted(missing)}")
    if link is not None and not link.startswith("/"):
        raise ValueError("a message link is a path in the app, starting with /")
    now = clock.now()
    rows = [{"uid": secrets.token_hex(16), "account_id": account_id, "kind": kind, "params": params, "link": link,
             "application_id": application_id, "urgent": template["urgent"], "hidden": False, "created_at": now}
            for account_id in _recipients(session, to)]
    pending: list[dict[str, Any]] | None = session.info.get(_BATCH)
    if pending is not None:
        pending.extend(rows)
    elif rows:
        session.execute(insert(Message), rows)
    return [r["uid"] for r in rows]


_BATCH = "tongban.messages.batch"


@contextmanager
def batch(session: Session) -> Iterator[None]:
    """Within the block, `send` collects its messages; they are written in one INSERT when the
    block ends (a hot path that tells several people, e.g. a submission). An error inside the
    block writes none of them."""
    if session.info.get(_BATCH) is not None:  # already batching: the outer block writes
        yield
        return
    pending: list[dict[str, Any]] = []
    session.info[_BATCH] = pending
    try:
        yield
    finally:
        session.info.pop(_BATCH, None)
    if pending:
        session.execute(insert(Message), pending)


# Per-process caches of the templates and of each queue's staff: the hot paths (a submission
# tells the applicant and the queues) then add only the messages' INSERT. A change in this
# process clears them at once; one made by another process shows within CACHE_SECONDS.
_cache_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[float, Any]] = {}


def _cached(session: Session, key: str, load: Callable[[], T]) -> T:
    full = (str(session.get_bind().engine.url), key)
    held = _cache.get(full)
    if held is not None and time.monotonic() - held[0] < CACHE_SECONDS:
        return held[1]  # type: ignore[no-any-return]
    value = load()
    with _cache_lock:
        _cache[full] = (time.monotonic(), value)
    return value


def forget_cached(_session: Session | None = None) -> None:
    with _cache_lock:
        _cache.clear()


forget_on_change("messages", (MessageTemplate, Account, AccountRole, Role), forget_cached)


def _templates(session: Session) -> dict[str, dict[str, Any]]:
    return _cached(session, "templates", lambda: {
        t.kind: {"urgent": t.urgent, "definition": t.definition, "audience": t.audience}
        for t in session.scalars(select(MessageTemplate))})


def _recipients(session: Session, to: int | Queue | None) -> list[int]:
    if to is None:
        return []
    if isinstance(to, Queue):
        return _cached(session, f"queue:{to.department_id}", lambda: _queue_staff(session, to.department_id))
    return [to]


def _queue_staff(session: Session, department_id: str) -> list[int]:
    deciders = [r.id for r in session.scalars(select(Role)) if "task.decide" in (r.permissions or [])]
    if not deciders:
        return []
    return list(session.scalars(
        select(Account.id).join(AccountRole, AccountRole.account_id == Account.id)
        .where(Account.department_id == department_id, Account.active.is_(True), Account.kind == "staff",
               AccountRole.role_id.in_(deciders)).distinct().order_by(Account.id)))


# --- the relay: new messages → deliveries on the chosen channels ---------------------------------


def dispatch(session: Session, *, limit: int = DISPATCH_BATCH) -> int:
    """Give each new message its deliveries (e-mail, SMS as the recipient chose and verified) and
    mark it dispatched. Returns how many messages it took. Two relays at once cannot both take
    a message: the mark is a guarded update, and a delivery is unique per message and channel."""
    q = select(Message).where(Message.dispatched_at.is_(None)).order_by(Message.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    messages = list(session.scalars(q))
    if not messages:
        return 0
    now = clock.now()
    accounts = {m.account_id for m in messages}
    prefs = {p.account_id: p for p in session.scalars(
        select(Preference).where(Preference.account_id.in_(accounts), Preference.email | Preference.sms))}
    contacts: dict[tuple[int, str], ContactPoint] = {}
    if prefs:
        contacts = {(c.account_id, c.channel): c for c in session.scalars(
            select(ContactPoint).where(ContactPoint.account_id.in_(list(prefs)), ContactPoint.verified_at.is_not(None)))}
    defs = _templates(session)
    session.execute(update(Message).where(Message.id.in_([m.id for m in messages]), Message.dispatched_at.is_(None))
                    .values(dispatched_at=now).execution_options(synchronize_session=False))
    for m in messages:
        pref = prefs.get(m.account_id)
        if pref is None:
            continue
        definition = (defs.get(m.kind) or {}).get("definition") or {}
        at = release_time(now, pref, urgent=m.urgent)
        for name in OUTSIDE:
            contact = contacts.get((m.account_id, name))
            if not getattr(pref, name) or contact is None:
                continue
            if name == "sms" and not (definition.get("sms") or {}).get("template"):
                continue  # no approved SMS template for this kind: in-app and e-mail only
            queue_delivery(session, m, contact, at=at)
    return len(messages)


@handler("messages.dispatch")
def run_dispatch(session: Session, payload: dict[str, Any]) -> None:
    dispatch(session)


schedule("messages.dispatch", "messages.dispatch", interval_seconds=DISPATCH_EVERY_SECONDS)


def queue_delivery(session: Session, message: Message, contact: ContactPoint, *, at: dt.datetime) -> Delivery:
    """One delivery of `message` to `contact`, and the job that sends it at `at`."""
    delivery = Delivery(message_id=message.id, channel=contact.channel, contact_id=contact.id,
                        external_id=f"{message.uid}.{contact.channel}", not_before=at, status="queued", attempts=0,
                        created_at=clock.now())
    session.add(delivery)
    session.flush()
    enqueue(session, kind="messages.deliver", payload={"delivery_id": delivery.id}, run_at=at,
            dedupe_key=f"messages.deliver:{delivery.id}:0")
    return delivery


def in_quiet_hours(local: dt.time, start: dt.time, end: dt.time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end  # across midnight, e.g. 22:00–07:00


def release_time(now: dt.datetime, preference: Preference | None, *, urgent: bool) -> dt.datetime:
    """When a message may leave: now, or the end of the recipient's quiet hours (Asia/Shanghai)
    if now falls in them — unless the kind is urgent."""
    if urgent or preference is None or preference.quiet_start is None or preference.quiet_end is None:
        return now
    local = clock.local(now)
    if not in_quiet_hours(local.time().replace(tzinfo=None), preference.quiet_start, preference.quiet_end):
        return now
    end = dt.datetime.combine(local.date(), preference.quiet_end, tzinfo=clock.SHANGHAI)
    if end <= local:
        end += dt.timedelta(days=1)
    return end.astimezone(dt.UTC)


# --- the worker ----------------------------------------------------------------------------------


def _failpoint(point: str) -> None:
    """Crash tests only (TONGBAN_MESSAGES_FAILPOINT): the worker dies here as if killed."""
    if channels.settings().messages_failpoint == point:
        os.kill(os.getpid(), signal.SIGKILL)


def outgoing(session: Session, delivery: Delivery, config: channels.MessagingSettings) -> channels.Outgoing:
    message = session.get_one(Message, delivery.message_id)
    contact = session.get_one(ContactPoint, delivery.contact_id)
    account = session.get_one(Account, message.account_id)
    template = session.get_one(MessageTemplate, message.kind)
    locale = "en" if (account.locale or "").startswith("en") else "zh"
    title, body = templates.render(template.definition, message.params, locale)
    sms = template.definition.get("sms") or {}
    return channels.Outgoing(
        external_id=delivery.external_id, address=contact.address, subject=title, body=body,
        link=f"{config.public_url.rstrip('/')}{message.link}" if message.link else None,
        sms_template=sms.get("template"), sms_params=templates.sms_params(template.definition, message.params))


def deliver(session: Session, delivery_id: int) -> str:
    """Send one delivery (unless it was sent already); return its status."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.status != "queued":
        return delivery.status if delivery else "missing"
    config = channels.settings()
    out = outgoing(session, delivery, config)
    _failpoint("before_connect")
    delivery.attempts += 1
    try:
        delivery.provider_ref = channels.channel(delivery.channel, config).send(out)
    except channels.ChannelError as exc:
        delivery.last_error = str(exc)[:300]
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = "failed"
        else:
            enqueue(session, kind="messages.deliver", payload={"delivery_id": delivery.id},
                    run_at=clock.now() + backoff(delivery.attempts),
                    dedupe_key=f"messages.deliver:{delivery.id}:{delivery.attempts}")
        log.warning("message delivery failed", extra={"delivery_id": delivery.id, "channel": delivery.channel,
                                                      "attempt": delivery.attempts, "status": delivery.status})
        return delivery.status
    delivery.status, delivery.sent_at, delivery.last_error = "sent", clock.now(), None
    message = session.get_one(Message, delivery.message_id)
    if message.kind == VERIFY_KIND:
        message.params = {**message.params, "code": "******"}  # the code left; no copy stays behind
    record(session, actor="system", action="message.delivered", subject=f"message:{message.id}",
           details={"channel": delivery.channel, "id": delivery.external_id, "attempt": delivery.attempts})
    session.flush()
    _failpoint("after_record")
    return "sent"


@handler("messages.deliver")
def run_delivery(session: Session, payload: dict[str, Any]) -> None:
    deliver(session, int(payload["delivery_id"]))
