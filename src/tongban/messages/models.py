"""Tables of the messaging slice: the inbox (one row per message, the in-app channel), the
outbox (one delivery per message and outside channel, with its state and stable id), the
contact points an account verified, its channel choice and quiet hours, and the pack's
bilingual templates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db import Base, BigId, UTCDateTime
from tongban.core.timeutil import utcnow


class MessageTemplate(Base):
    """A message kind as the pack declares it: who gets it, its bilingual title and body, whether
    it ignores quiet hours, and the SMS provider's approved template it maps to."""

    __tablename__ = "msg_template"

    kind: Mapped[str] = mapped_column(String(48), primary_key=True)
    audience: Mapped[str] = mapped_column(String(10))  # resident | staff
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)  # title, body ({zh, en}), sms
    pack_id: Mapped[str] = mapped_column(String(64))


class Message(Base):
    """你的消息 / 我的待办提醒: one message to one account; its row is the in-app delivery."""

    __tablename__ = "msg_message"
    __table_args__ = (Index("ix_msg_message_inbox", "account_id", "hidden", "id"),
                      Index("ix_msg_message_dispatch", "dispatched_at", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)  # the stable id every channel carries
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(300))
    application_id: Mapped[int | None] = mapped_column(BigId)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)  # not in the inbox (a one-time code)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # When the relay turned it into deliveries on the recipient's channels (None: not yet).
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Delivery(Base):
    """The outbox: one message on one outside channel (email | sms), sent by the worker."""

    __tablename__ = "msg_delivery"
    __table_args__ = (UniqueConstraint("message_id", "channel", name="uq_msg_delivery_channel"),
                      Index("ix_msg_delivery_status", "status", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("msg_message.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    contact_id: Mapped[int] = mapped_column(ForeignKey("msg_contact.id"))
    external_id: Mapped[str] = mapped_column(String(120), unique=True)  # Message-ID / SMS OutId
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued | sent | failed
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # quiet hours move it on
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    provider_ref: Mapped[str | None] = mapped_column(String(120))  # the gateway's own id (BizId)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ContactPoint(Base):
    """An e-mail address or mobile number the account holder gave and proved with a one-time code."""

    __tablename__ = "msg_contact"
    __table_args__ = (UniqueConstraint("account_id", "channel", name="uq_msg_contact_channel"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    address: Mapped[str] = mapped_column(String(200))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Preference(Base):
    """The account's channel choice and quiet hours (Asia/Shanghai wall time)."""

    __tablename__ = "msg_preference"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=False)
    sms: Mapped[bool] = mapped_column(Boolean, default=False)
    quiet_start: Mapped[dt.time | None] = mapped_column(Time)
    quiet_end: Mapped[dt.time | None] = mapped_column(Time)
