"""Pages of the messaging slice: the resident's inbox and settings (contact points with their
codes, channels, quiet hours) in the portal, and the staff inbox (deadline warnings, new tasks)
in the workbench. Opening a message (its own page, with the button to what it is about) reads it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tongban.core import access
from tongban.core.errors import Conflict, Invalid, TongbanError
from tongban.core.i18n import N_, gettext
from tongban.core.ids import Id
from tongban.messages import channels, contacts, inbox
from tongban.webkit.deps import DbSession, SignedIn
from tongban.webkit.templating import render

router = APIRouter(include_in_schema=False)


def _home(principal: access.Principal) -> str:
    return "/workbench/messages" if principal.kind == "staff" else "/portal/messages"


def _inbox(request: Request, session: Session, principal: access.Principal, cursor: str | None) -> Response:
    rows, next_cursor = inbox.my_messages(session, principal=principal, cursor=cursor)
    return render(request, "messages/inbox.html", {"messages": rows, "next_cursor": next_cursor,
                                                   "home": _home(principal), "staff": principal.kind == "staff"})


def _resident(principal: access.Principal) -> None:
    access.require(principal, "self.read")


def _staff(principal: access.Principal) -> None:
    access.require_login(principal)
    if principal.kind != "staff":
        raise access.Denied(N_("You are not allowed to do this"), principal=principal, action="messages.staff")


@router.get("/portal/messages")
def resident_inbox(request: Request, session: DbSession, principal: SignedIn, cursor: str | None = None) -> Response:
    """你的消息: notices about your applications and offers, newest first, a page at a time."""
    _resident(principal)
    return _inbox(request, session, principal, cursor)


@router.get("/workbench/messages")
def staff_inbox(request: Request, session: DbSession, principal: SignedIn, cursor: str | None = None) -> Response:
    """我的提醒: deadline warnings and new tasks for your queue."""
    _staff(principal)
    return _inbox(request, session, principal, cursor)


def _read(request: Request, session: Session, principal: access.Principal, message_id: int) -> Response:
    message = inbox.mark_read(session, principal=principal, message_id=message_id)
    if request.headers.get("hx-request"):
        return render(request, "messages/_message.html", {"m": message, "home": _home(principal)})
    return RedirectResponse(_home(principal), status_code=303)


@router.post("/portal/messages/{message_id}/read")
def resident_read(request: Request, session: DbSession, principal: SignedIn, message_id: Id) -> Response:
    _resident(principal)
    return _read(request, session, principal, message_id)


@router.post("/workbench/messages/{message_id}/read")
def staff_read(request: Request, session: DbSession, principal: SignedIn, message_id: Id) -> Response:
    _staff(principal)
    return _read(request, session, principal, message_id)


def _message_page(request: Request, session: Session, principal: access.Principal, message_id: int) -> Response:
    """One message in full, with the button to what it is about; opening it reads it."""
    message = inbox.mark_read(session, principal=principal, message_id=message_id)
    return render(request, "messages/message.html", {"m": message, "home": _home(principal)})


# --- settings ------------------------------------------------------------------------------------


def _settings(request: Request, session: Session, principal: access.Principal, *,
              errors: dict[str, str] | None = None, notice: str | None = None, status_code: int = 200) -> Response:
    found = {c.channel: contacts.contact_dict(c) for c in contacts.contacts(session, principal=principal)}
    return render(request, "messages/settings.html", {
        "contacts": found, "preference": contacts.preference_dict(contacts.preference(session, principal=principal)),
        "available": channels.available(), "errors": errors or {}, "notice": notice}, status_code=status_code)


@router.get("/portal/messages/settings")
def settings_page(request: Request, session: DbSession, principal: SignedIn) -> Response:
    """消息设置: where messages reach you besides this inbox, and when they may not."""
    _resident(principal)
    return _settings(request, session, principal)


def _refused(request: Request, session: Session, principal: access.Principal, exc: TongbanError) -> Response:
    return _settings(request, session, principal, errors={exc.field or "form": gettext(exc.message)},
                     status_code=exc.status)


@router.post("/portal/messages/settings/contact")
def contact_form(request: Request, session: DbSession, principal: SignedIn, channel: Annotated[str, Form()],
                 address: Annotated[str, Form()] = "") -> Response:
    _resident(principal)
    try:
        with session.begin_nested():
            contacts.add_contact(session, principal=principal, channel=channel, address=address)
    except (Invalid, Conflict) as exc:
        return _refused(request, session, principal, exc)
    return _settings(request, session, principal, notice=gettext("A code was sent. Enter it below."))


@router.post("/portal/messages/settings/verify")
def verify_form(request: Request, session: DbSession, principal: SignedIn, channel: Annotated[str, Form()],
                code: Annotated[str, Form()] = "") -> Response:
    _resident(principal)
    try:
        contacts.verify_contact(session, principal=principal, channel=channel, code=code)
    except Invalid as exc:  # the attempt is counted (committed with the page)
        return _refused(request, session, principal, exc)
    return _settings(request, session, principal, notice=gettext("Verified."))


@router.post("/portal/messages/settings/preference")
def preference_form(request: Request, session: DbSession, principal: SignedIn,
                    email: Annotated[str, Form()] = "", sms: Annotated[str, Form()] = "",
                    quiet_start: Annotated[str, Form()] = "", quiet_end: Annotated[str, Form()] = "") -> Response:
    _resident(principal)
    try:
        with session.begin_nested():
            contacts.set_preference(session, principal=principal, email=bool(email), sms=bool(sms),
                                    quiet_start=quiet_start, quiet_end=quiet_end)
    except Invalid as exc:
        return _refused(request, session, principal, exc)
    return _settings(request, session, principal, notice=gettext("Saved."))


# After the settings routes: "/portal/messages/settings" is not a message id.
@router.get("/portal/messages/{message_id}")
def resident_message(request: Request, session: DbSession, principal: SignedIn, message_id: Id) -> Response:
    _resident(principal)
    return _message_page(request, session, principal, message_id)


@router.get("/workbench/messages/{message_id}")
def staff_message(request: Request, session: DbSession, principal: SignedIn, message_id: Id) -> Response:
    _staff(principal)
    return _message_page(request, session, principal, message_id)
