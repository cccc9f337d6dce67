"""The messaging API: one's inbox (`/me/messages`, residents and staff alike), read state,
contact points with their one-time codes, channel choice and quiet hours."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, StrictBool
from starlette.convertors import Convertor, register_url_convertor

from tongban.core.errors import Invalid
from tongban.core.ids import Id
from tongban.core.paging import DEFAULT_LIMIT, Limit
from tongban.messages import channels, contacts, inbox
from tongban.webkit.deps import CurrentPrincipal, DbSession, commit_now
from tongban.webkit.schemas import Page, refusals

router = APIRouter(tags=["messages"])

Channel = Literal["email", "sms"]


class _ChannelConvertor(Convertor[str]):
    """`{channel:channel}` in a path matches only a channel, so `/me/contacts/verify` (POST) is not
    taken for a channel named "verify": another method there is a 405 naming POST."""

    regex = "email|sms"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("channel", _ChannelConvertor())

# HH:MM (or HH:MM:SS), or empty for none: what contacts.set_preference reads as a time of day.
TIME_OF_DAY = r"^$|^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


@router.get("/me/messages", response_model=Page[dict[str, Any]])
def my_messages(session: DbSession, principal: CurrentPrincipal, limit: Limit = DEFAULT_LIMIT,
                cursor: str | None = None, unread: bool = False) -> Page[dict[str, Any]]:
    """你的消息: one's messages, newest first, each with its title and text in the caller's language."""
    rows, next_cursor = inbox.my_messages(session, principal=principal, limit=limit, cursor=cursor, unread=unread)
    return Page(items=rows, next_cursor=next_cursor)


@router.get("/me/messages/unread")
def unread(session: DbSession, principal: CurrentPrincipal) -> dict[str, int]:
    return {"unread": inbox.unread_count(session, principal=principal)}


@router.post("/me/messages/{message_id}/read")
def read(session: DbSession, principal: CurrentPrincipal, message_id: Id) -> dict[str, Any]:
    """Mark a message as read (again changes nothing)."""
    return inbox.mark_read(session, principal=principal, message_id=message_id)


class ContactIn(BaseModel):
    channel: Channel
    address: str = Field(max_length=200)


class CodeIn(BaseModel):
    channel: Channel
    code: str = Field(max_length=12)


class PreferenceIn(BaseModel):
    email: StrictBool = False
    sms: StrictBool = False
    quiet_start: str | None = Field(None, max_length=8, pattern=TIME_OF_DAY, description="HH:MM, Asia/Shanghai")
    quiet_end: str | None = Field(None, max_length=8, pattern=TIME_OF_DAY, description="HH:MM, Asia/Shanghai")


@router.get("/me/messaging")
def settings(session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """Contact points, chosen channels and quiet hours, and the channels this site offers."""
    return {"contacts": [contacts.contact_dict(c) for c in contacts.contacts(session, principal=principal)],
            "preference": contacts.preference_dict(contacts.preference(session, principal=principal)),
            "available": channels.available()}


@router.post("/me/contacts", status_code=202, responses=refusals({
    422: "An `address` that is not an e-mail address (`email`) or a mainland mobile number of 11 digits "
         "starting with 1 (`sms`)"}))
def add_contact(body: ContactIn, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """Give an e-mail address or a mobile number; a one-time code is sent there (valid 10 minutes)."""
    return contacts.contact_dict(contacts.add_contact(session, principal=principal, channel=body.channel,
                                                      address=body.address))


@router.post("/me/contacts/verify", responses=refusals({
    422: "No address given for the `channel` yet; a `code` that is not right or has expired"}))
def verify_contact(body: CodeIn, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """Prove a contact point with its code; five wrong codes and a new one must be asked for."""
    try:
        contact = contacts.verify_contact(session, principal=principal, channel=body.channel, code=body.code)
    except Invalid:
        commit_now(session)  # the failed attempt counts
        raise
    return contacts.contact_dict(contact)


@router.delete("/me/contacts/{channel:channel}", status_code=204)
def remove_contact(channel: Channel, session: DbSession, principal: CurrentPrincipal) -> None:
    contacts.remove_contact(session, principal=principal, channel=channel)


@router.put("/me/messaging/preference", responses=refusals({
    422: "Only one end of the quiet hours; a channel chosen without a verified contact point for it"}))
def set_preference(body: PreferenceIn, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """Choose the outside channels (each needs a verified contact point) and quiet hours."""
    return contacts.preference_dict(contacts.set_preference(
        session, principal=principal, email=body.email, sms=body.sms, quiet_start=body.quiet_start,
        quiet_end=body.quiet_end))
