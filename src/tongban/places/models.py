"""Places tables: the categories (with their walking radius) and the places themselves.

Coordinates are stored in WGS-84 (`core.geo`), whatever datum they came in; `cell` is the grid
cell of the near-me index (`core.geo.cell_key`), kept with the point."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db import Base, BigId, UTCDateTime
from tongban.core.timeutil import utcnow


class PlaceCategory(Base):
    """A kind of place (service hall, clinic, 助餐点 …) and the walking radius of its service
    circle (一刻钟便民服务圈), from the pack."""

    __tablename__ = "place_category"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(100))
    title_en: Mapped[str] = mapped_column(String(200))
    walking_radius_m: Mapped[int] = mapped_column(Integer, default=1000)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Place(Base):
    """A place a resident can go to: where it is, when it is open, what can be done there."""

    __tablename__ = "place"
    __table_args__ = (Index("ix_place_category_cell", "category", "cell"), Index("ix_place_cell", "cell"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # stable id: the pack's or the import's
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str | None] = mapped_column(String(12), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(40))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    cell: Mapped[int] = mapped_column(BigInteger)
    hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    accessibility: Mapped[list[str]] = mapped_column(JSON, default=list)
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(10), default="pack")  # pack | import
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
