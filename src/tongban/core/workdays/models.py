"""The table of loaded year schedules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db import Base, UTCDateTime
from tongban.core.timeutil import utcnow


class CalendarYear(Base):
    """One year's working-day schedule as loaded: holiday ranges (named) and adjusted workdays."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{name: {zh, en}, from, to}] ISO dates
    workdays: Mapped[list[str]] = mapped_column(JSON)  # ISO dates of weekend days worked (调休)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical schedule
    source: Mapped[str] = mapped_column(String(400))  # file:NAME or pack:ID@VERSION:PATH
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # where it was published
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    loaded_by: Mapped[str] = mapped_column(String(100))
