"""Tables of 好差评: the ratings (one per completed application, task or closed case), the
rectification (整改) a 差评 opens, the appeals (申诉复核) against a rating, and the pack's settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db import Base, BigId, UTCDateTime
from tongban.core.timeutil import utcnow


class RatingSetting(Base):
    """One setting from the pack's ratings.yaml: rectification limits, tags, task ratings, reviewer role."""

    __tablename__ = "rating_setting"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    pack_id: Mapped[str] = mapped_column(String(64))


class Rating(Base):
    """评价: one rating of one thing — a completed application, a completed task, a closed case.

    `level` 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意; 1 and 2 are 差评. An upheld appeal
    sets `excluded`: the rating stays in the record and leaves the statistics."""

    __tablename__ = "rating"
    __table_args__ = (UniqueConstraint("subject_kind", "subject_id", name="uq_rating_subject"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_kind: Mapped[str] = mapped_column(String(12))  # application | task | case
    subject_id: Mapped[int] = mapped_column(BigId)
    application_id: Mapped[int | None] = mapped_column(BigId, index=True)  # an application's or task's
    level: Mapped[int] = mapped_column(Integer)
    dimensions: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # 办事效率, 办事指南精确度, …
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    comment: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(8))  # online | onsite | visit
    rater_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    recorded_by: Mapped[str] = mapped_column(String(64))  # the actor: the resident, or the counter's officer
    department_id: Mapped[str] = mapped_column(String(64), index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    item_id: Mapped[str] = mapped_column(String(64), index=True)  # the item, one-thing or case category
    item_title: Mapped[dict[str, str]] = mapped_column(JSON)  # its title when rated ({zh, en})
    rated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)  # an upheld appeal took it out of the figures
    excluded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Rectification(Base):
    """整改: what a 差评 opens for its department — 回访 (return visit), 整改 (rectify), 答复 (reply)
    each by a due date in working days — and the resident's one follow-up rating after the reply."""

    __tablename__ = "rating_rectification"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("rating.id"), unique=True)
    department_id: Mapped[str] = mapped_column(String(64), index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)  # open | visited | rectified | replied | withdrawn
    opened_on: Mapped[dt.date] = mapped_column(Date)
    visit_due: Mapped[dt.date] = mapped_column(Date)
    rectify_due: Mapped[dt.date] = mapped_column(Date)
    reply_due: Mapped[dt.date] = mapped_column(Date)
    visited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    visit_note: Mapped[str | None] = mapped_column(Text)
    rectified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    rectify_note: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reply: Mapped[str | None] = mapped_column(Text)
    working_days: Mapped[int | None] = mapped_column(Integer)  # opened → replied
    follow_up_level: Mapped[int | None] = mapped_column(Integer)
    follow_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    overdue_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # flagged by the overdue watch
    handled_by: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Appeal(Base):
    """申诉复核: the department holds a rating malicious or unrelated; a reviewer outside it decides."""

    __tablename__ = "rating_appeal"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("rating.id"), unique=True)  # one appeal per rating
    department_id: Mapped[str] = mapped_column(String(64), index=True)
    grounds: Mapped[str] = mapped_column(String(12))  # malicious | unrelated
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), index=True)  # pending | upheld | dismissed
    filed_by: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text)
