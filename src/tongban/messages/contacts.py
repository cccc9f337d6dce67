"""Contact points and preferences: the account holder gives an e-mail address or a mobile
number, proves it with a one-time code sent there, and chooses the channels and quiet hours
messages follow. Contact points belong to the account — they are never read from the registry."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import access, clock
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid
from tongban.core.i18n import N_
from tongban.messages import outbox
from tongban.messages.models import ContactPoint, Message, Preference

CODE_TTL = dt.timedelta(minutes=10)
CODE_ATTEMPTS = 5
RESEND_AFTER = dt.timedelta(seconds=60)
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _owner(principal: access.Principal) -> int:
    access.require_login(principal)
    if principal.account_id is None or principal.kind not in ("resident", "staff"):
        raise access.Denied(N_("Only a signed-in person has messages"), principal=principal, action="messages")
    return principal.account_id


def _hash(contact_id: int, code: str) -> str:
    return hashlib.sha256(f"{contact_id}:{code}".encode()).hexdigest()


def clean_address(channel: str, address: str) -> str:
    address = (address or "").strip()
    if channel == "email":
        if len(address) > 200 or not EMAIL.match(address):
            raise Invalid(N_("Enter an e-mail address such as name@example.cn"), field="address")
        return address
    if channel == "sms":
        digits = address.removeprefix("+86").replace(" ", "").replace("-", "")
        if not MOBILE.match(digits):
            raise Invalid(N_("Enter a mainland mobile number of 11 digits starting with 1"), field="address")
        return digits
    raise Invalid(N_("Choose e-mail or SMS"), field="channel")


def contacts(session: Session, *, principal: access.Principal) -> list[ContactPoint]:
    account_id = _owner(principal)
    return list(session.scalars(select(ContactPoint).where(ContactPoint.account_id == account_id)
                                .order_by(ContactPoint.channel)))


def add_contact(session: Session, *, principal: access.Principal, channel: str, address: str) -> ContactPoint:
    """Give (or replace) the account's address on `channel`; a one-time code goes there to prove it."""
    account_id = _owner(principal)
    address = clean_address(channel, address)
    contact = session.scalar(select(ContactPoint).where(ContactPoint.account_id == account_id,
                                                        ContactPoint.channel == channel))
    now = clock.now()
    if contact is None:
        contact = ContactPoint(account_id=account_id, channel=channel, address=address)
        session.add(contact)
        session.flush()
    elif contact.address == address and contact.verified_at is not None:
        return contact
    elif (contact.address == address and contact.code_expires_at is not None
          and contact.code_expires_at - CODE_TTL + RESEND_AFTER > now):
        raise Conflict(N_("A code was sent a moment ago; wait a minute before asking for another"), field="address")
    contact.address, contact.verified_at = address, None
    _send_code(session, contact, now)
    record(session, actor=principal.actor, action="contact.added", subject=f"contact:{contact.id}",
           details={"channel": channel})
    return contact


def _send_code(session: Session, contact: ContactPoint, now: dt.datetime) -> None:
    code = f"{secrets.randbelow(10**6):06d}"
    contact.code_hash, contact.code_expires_at, contact.code_attempts = _hash(contact.id, code), now + CODE_TTL, 0
    message = Message(uid=secrets.token_hex(16), account_id=contact.account_id, kind=outbox.VERIFY_KIND,
                      params={"code": code}, urgent=True, hidden=True, dispatched_at=now)
    session.add(message)
    session.flush()
    outbox.queue_delivery(session, message, contact, at=now)


def verify_contact(session: Session, *, principal: access.Principal, channel: str, code: str) -> ContactPoint:
    """Prove the address with the code sent to it."""
    account_id = _owner(principal)
    contact = session.scalar(select(ContactPoint).where(ContactPoint.account_id == account_id,
                                                        ContactPoint.channel == channel))
    if contact is None or contact.code_hash is None:
        raise Invalid(N_("Give the address first; a code is sent to it"), field="channel")
    if contact.verified_at is not None:
        return contact
    now = clock.now()
    if contact.code_expires_at is None or contact.code_expires_at < now or contact.code_attempts >= CODE_ATTEMPTS:
        raise Invalid(N_("The code has expired; ask for a new one"), field="code")
    if not hmac.compare_digest(contact.code_hash, _hash(contact.id, (code or "").strip())):
        contact.code_attempts += 1  # kept: the caller commits the count with the refusal
        raise Invalid(N_("The code is not right"), field="code")
    contact.verified_at, contact.code_hash, contact.code_expires_at = now, None, None
    record(session, actor=principal.actor, action="contact.verified", subject=f"contact:{contact.id}",
           details={"channel": channel})
    return contact


def remove_contact(session: Session, *, principal: access.Principal, channel: str) -> None:
    account_id = _owner(principal)
    contact = session.scalar(select(ContactPoint).where(ContactPoint.account_id == account_id,
                                                        ContactPoint.channel == channel))
    if contact is not None:
        contact.verified_at, contact.code_hash = None, None
        preference = session.get(Preference, account_id)
        if preference is not None:
            setattr(preference, channel, False)
        record(session, actor=principal.actor, action="contact.removed", subject=f"contact:{contact.id}",
               details={"channel": channel})


def preference(session: Session, *, principal: access.Principal) -> Preference:
    account_id = _owner(principal)
    return session.get(Preference, account_id) or Preference(account_id=account_id, email=False, sms=False)


def _time(value: Any, field: str) -> dt.time | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError:
        raise Invalid(N_("Enter a time such as 22:00"), field=field) from None


def set_preference(session: Session, *, principal: access.Principal, email: bool, sms: bool,
                   quiet_start: Any = None, quiet_end: Any = None) -> Preference:
    """Choose the outside channels (each needs a verified contact point) and the quiet hours."""
    account_id = _owner(principal)
    start, end = _time(quiet_start, "quiet_start"), _time(quiet_end, "quiet_end")
    if (start is None) != (end is None):
        raise Invalid(N_("Give both the start and the end of the quiet hours, or neither"),
                      field="quiet_end" if start is not None else "quiet_start")
    verified = {c.channel for c in contacts(session, principal=principal) if c.verified_at is not None}
    for name, on in (("email", email), ("sms", sms)):
        if on and name not in verified:
            raise Invalid(N_("Verify this contact point before choosing the channel"), field=name)
    row = session.get(Preference, account_id)
    if row is None:
        row = Preference(account_id=account_id)
        session.add(row)
    row.email, row.sms, row.quiet_start, row.quiet_end = email, sms, start, end
    record(session, actor=principal.actor, action="messages.preference", subject=f"account:{account_id}",
           details={"email": email, "sms": sms, "quiet": bool(start)})
    return row


def preference_dict(p: Preference) -> dict[str, Any]:
    return {"email": bool(p.email), "sms": bool(p.sms),
            "quiet_start": p.quiet_start.strftime("%H:%M") if p.quiet_start else None,
            "quiet_end": p.quiet_end.strftime("%H:%M") if p.quiet_end else None}


def contact_dict(c: ContactPoint) -> dict[str, Any]:
    return {"channel": c.channel, "address": c.address, "verified": c.verified_at is not None,
            "verified_at": c.verified_at}
