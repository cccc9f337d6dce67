"""Audit tables. Events are inserted in the acting transaction; a sealer links them into the chain."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db import Base, BigId, UTCDateTime
from tongban.core.timeutil import utcnow


class AuditEvent(Base):
    """One security-relevant action. `seq`, `prev_hash` and `hash` are set when sealed."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_unsealed", "id", postgresql_where=text("seq IS NULL"), sqlite_where=text("seq IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80), index=True)  # account:12 | client:abc | system
    actor_department: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. auth.login, person.read
    outcome: Mapped[str] = mapped_column(String(10), default="ok")  # ok | denied | failed
    subject: Mapped[str | None] = mapped_column(String(128), index=True)  # pseudonymous reference
    department_id: Mapped[str | None] = mapped_column(String(64), index=True)  # whose record it concerns
    region_code: Mapped[str | None] = mapped_column(String(12))
    purpose: Mapped[str | None] = mapped_column(String(500))
    details: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON, hashed as stored
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's head: one row, updated only by the sealer."""

    __tablename__ = "audit_head"

    id: Mapped[bool] = mapped_column(Boolean, primary_key=True, default=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64), default="0" * 64)


class AuditDenialWindow(Base):
    """Refusals of one actor and action in one minute, counted outside the chain while the minute
    lasts; closed into one chained event (`tongban.core.audit.denials`)."""

    __tablename__ = "audit_denial_window"
    __table_args__ = (UniqueConstraint("actor", "action", "window_start", name="uq_audit_denial_window"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(200))  # the permission or check refused
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    count: Mapped[int] = mapped_column(Integer, default=0)  # refusals after the window's first
    actor_department: Mapped[str | None] = mapped_column(String(64))
    first_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    details: Mapped[str] = mapped_column(Text, default="{}")  # the first refusal's path, method, status
