"""Appointment tables (分时预约): the bookable resources (from packs, editable by staff), the slots
of each day with their counter, and the bookings.

A slot row is made the first time someone books it; its `booked` counter only ever moves by a
guarded UPDATE (`booked < capacity`), which is what keeps a slot from being overbooked however
many people book at once (see `service.book`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db import Base, BigId, UTCDateTime
from tongban.core.timeutil import utcnow


class Resource(Base):
    """Something bookable at a place: a service-hall window for an item, a vaccination clinic, a
    sports venue, a hospital department. `rules` holds the opening rules and slot template."""

    __tablename__ = "appt_resource"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. appt.hall-haishu.social-security
    kind: Mapped[str] = mapped_column(String(16))  # window | clinic | venue | department
    title_zh: Mapped[str] = mapped_column(String(100))
    title_en: Mapped[str] = mapped_column(String(200))
    place_key: Mapped[str] = mapped_column(String(64), index=True)  # the places slice's stable id
    region_code: Mapped[str | None] = mapped_column(String(12), index=True)  # the place's region
    department_id: Mapped[str] = mapped_column(String(64), index=True)  # who serves it
    items: Mapped[list[str]] = mapped_column(JSON, default=list)  # the service items booked for
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)  # weekly spans, slot length, capacity, limits
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    edited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # staff changed the rules
    edited_by: Mapped[str | None] = mapped_column(String(80))
    pack_id: Mapped[str | None] = mapped_column(String(64))


class Slot(Base):
    """One time slot of one day of a resource, with its capacity and how many hold it."""

    __tablename__ = "appt_slot"
    __table_args__ = (UniqueConstraint("resource_id", "day", "start", name="uq_appt_slot"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resource_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[dt.date] = mapped_column(Date)
    start: Mapped[str] = mapped_column(String(5))  # HH:MM, Asia/Shanghai
    end: Mapped[str] = mapped_column(String(5))
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class Booking(Base):
    """A resident's booking of a slot. `seq` numbers a resident's active bookings of one resource
    and day (1 … the pack's limit); the partial unique index makes that limit hold under races."""

    __tablename__ = "appt_booking"
    __table_args__ = (
        Index("uq_appt_booking_active", "resource_id", "account_id", "day", "seq", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
        Index("ix_appt_booking_day", "resource_id", "day"),
        Index("ix_appt_booking_account", "account_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resource_id: Mapped[str] = mapped_column(String(64))
    slot_id: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int | None] = mapped_column(BigInteger)  # None: the service history's bookings
    day: Mapped[dt.date] = mapped_column(Date)
    start: Mapped[str] = mapped_column(String(5))
    end: Mapped[str] = mapped_column(String(5))
    seq: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | cancelled | attended | no_show
    item_id: Mapped[str | None] = mapped_column(String(64))
    region_code: Mapped[str | None] = mapped_column(String(12))  # the resource's, for the figures
    booked_by: Mapped[str] = mapped_column(String(80))  # the audit actor: the resident or the officer
    at_counter: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    marked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # attended / no-show recorded
    marked_by: Mapped[str | None] = mapped_column(String(80))
    rescheduled_to: Mapped[int | None] = mapped_column(BigInteger)
