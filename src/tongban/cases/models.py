"""Tables of the case engine: the pack's categories, dispatch rules and settings as loaded; cases
(诉求 and grid events) with their timeline and attachments; Open311 API keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db import Base, BigId, UTCDateTime
from tongban.core.timeutil import utcnow


class CaseCategory(Base):
    """A category (分类) of the 派单目录: hotline categories and grid event categories, from the pack."""

    __tablename__ = "case_category"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # hotline | grid
    default_type: Mapped[str] = mapped_column(String(12))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)  # title, description, keywords, days
    pack_id: Mapped[str] = mapped_column(String(64))


class CaseDispatchRule(Base):
    """派单目录 entry: a category in a region (and below it) goes to a department (主办), with 协办."""

    __tablename__ = "case_dispatch_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    category_id: Mapped[str] = mapped_column(String(64), index=True)
    region_code: Mapped[str] = mapped_column(String(12))
    department_id: Mapped[str] = mapped_column(ForeignKey("department.id"))
    assist: Mapped[list[str]] = mapped_column(JSON, default=list)
    pack_id: Mapped[str] = mapped_column(String(64))


class CaseSetting(Base):
    """One setting of the case engine from the pack: time_limits, merge, emergencies."""

    __tablename__ = "case_setting"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    pack_id: Mapped[str] = mapped_column(String(64))


class Case(Base):
    """诉求 / 网格事件: one matter a resident, a caller, a grid worker or an API client reported.

    The reporter's name and phone are the case's own personal data: the reporter may stay
    anonymous to the department, and a 举报's reporter is never shown to any department."""

    __tablename__ = "case_case"
    __table_args__ = (Index("ix_case_queue", "department_id", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # Open311 service_request_id
    kind: Mapped[str] = mapped_column(String(8))  # hotline | grid
    type: Mapped[str] = mapped_column(String(12))  # consult | help | complaint | report | suggestion | grid
    category_id: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    datum: Mapped[str | None] = mapped_column(String(10))  # WGS84 | GCJ02 | BD09 | CGCS2000
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # portal | hotline | grid | api
    reporter_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    reporter_name: Mapped[str | None] = mapped_column(String(64))
    reporter_phone: Mapped[str | None] = mapped_column(String(20))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    filed_by: Mapped[str] = mapped_column(String(64))
    # received | dispatched | accepted | returned | replied | closed | merged
    status: Mapped[str] = mapped_column(String(12), index=True)
    department_id: Mapped[str | None] = mapped_column(ForeignKey("department.id"))
    assist_department_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    clock_started_on: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    overdue_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    supervisions: Mapped[int] = mapped_column(Integer, default=0)  # 督办 raised
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("case_case.id"), index=True)
    rating: Mapped[int | None] = mapped_column(Integer)  # 1 (非常不满意) … 5 (非常满意)
    rating_source: Mapped[str | None] = mapped_column(String(8))  # resident | visit
    visited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # 回访
    api_key_id: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseEvent(Base):
    """The case's timeline (受理, 派单, 签收, 退单, 改派, 答复, 督办, 并单, 办结, 回访, 评价)."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CaseAttachment(Base):
    """A photo or document of a case, stored by SHA-256 in the storage as materials are."""

    __tablename__ = "case_attachment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), info={"blob": True})
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Open311Key(Base):
    """An Open311 client's API key (only its SHA-256 is kept)."""

    __tablename__ = "case_open311_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
