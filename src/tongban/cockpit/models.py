"""Tables of the cockpit: the store of cells (day × region × key per indicator, as the indicator's
owner computed them), when each indicator was refreshed, the pack's settings and rules, and the
early warnings of the last evaluation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db import Base, BigId, UTCDateTime
from tongban.core.timeutil import utcnow


class CockpitCell(Base):
    """One cell of an indicator: a day, the finest region the owner knows, the dimension values
    (`key`, a JSON list in the declared order) and the additive measures."""

    __tablename__ = "cockpit_cell"
    __table_args__ = (
        UniqueConstraint("indicator", "day", "region", "key", name="uq_cockpit_cell"),
        Index("ix_cockpit_cell_indicator_day", "indicator", "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    indicator: Mapped[str] = mapped_column(String(80))
    day: Mapped[dt.date] = mapped_column(Date)
    region: Mapped[str] = mapped_column(String(12))
    key: Mapped[str] = mapped_column(String(400))
    measures: Mapped[dict[str, Any]] = mapped_column(JSON)


ROLLUP_MEASURES = 6  # measure slots of a rollup row (an indicator with more is not rolled up)
ALL_DEPARTMENTS = "*"  # the rollup's department of every cell (a department head reads their own)


class CockpitRollup(Base):
    """An indicator's cells of one day summed up the region tree with their dimensions summed
    over: per region node (the cell's own region and every region above it, and `<code>~` for the
    cells placed at a region above the communities) and per department (`*`: every cell; an
    indicator with a department dimension also each department's cells). `m0`… are the measures in
    the indicator's declared order; `cells` counts the cells summed (a node with cells of zero
    measures is still there). Written beside the cells on each refresh; the one screen reads it."""

    __tablename__ = "cockpit_rollup"
    __table_args__ = (Index("ix_cockpit_rollup_day", "indicator", "department", "day"),)

    indicator: Mapped[str] = mapped_column(String(80), primary_key=True)
    department: Mapped[str] = mapped_column(String(64), primary_key=True)
    node: Mapped[str] = mapped_column(String(13), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    cells: Mapped[int] = mapped_column(Integer, default=0)
    m0: Mapped[float] = mapped_column(Float, default=0.0)
    m1: Mapped[float] = mapped_column(Float, default=0.0)
    m2: Mapped[float] = mapped_column(Float, default=0.0)
    m3: Mapped[float] = mapped_column(Float, default=0.0)
    m4: Mapped[float] = mapped_column(Float, default=0.0)
    m5: Mapped[float] = mapped_column(Float, default=0.0)


class CockpitState(Base):
    """When an indicator's cells were last refreshed (their as-of time) and which days they cover."""

    __tablename__ = "cockpit_state"

    indicator: Mapped[str] = mapped_column(String(80), primary_key=True)
    refreshed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    day_from: Mapped[dt.date] = mapped_column(Date)
    day_to: Mapped[dt.date] = mapped_column(Date)
    cells: Mapped[int] = mapped_column(Integer, default=0)
    # the rollup (`CockpitRollup`) holds every stored day of the indicator's cells (False: the one
    # screen computes from the cells until a refresh has rebuilt it)
    rollup: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class CockpitSetting(Base):
    """The pack's `cockpit.yaml` as loaded: settings (`settings`) and early-warning rules (`rules`)."""

    __tablename__ = "cockpit_setting"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    pack_id: Mapped[str] = mapped_column(String(64))


class CockpitWarning(Base):
    """An early warning (预警) raised by the last evaluation of the rules: a rule, the region and
    dimension values it fired for, the figure and who can act (a role or a department)."""

    __tablename__ = "cockpit_warning"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(64), index=True)
    indicator: Mapped[str] = mapped_column(String(80))
    region: Mapped[str] = mapped_column(String(12), index=True)
    key: Mapped[str] = mapped_column(String(400))
    value: Mapped[float | None] = mapped_column(Float)
    previous: Mapped[float | None] = mapped_column(Float)
    subjects: Mapped[float | None] = mapped_column(Float)
    actor_kind: Mapped[str] = mapped_column(String(12))  # role | department
    actor: Mapped[str] = mapped_column(String(64), index=True)
    href: Mapped[str] = mapped_column(String(300))
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CockpitSupervision(Base):
    """A 督办 raised from an early warning: which warning (its rule, region and dimension values —
    warnings are re-raised on each refresh, so these, not the row's id, name it), the department
    pressed, the case the case engine filed for it, who raised it and when. Outlives refreshes:
    a warning whose case is still open shows it and is not supervised twice."""

    __tablename__ = "cockpit_supervision"
    __table_args__ = (Index("ix_cockpit_supervision_warning", "rule", "region", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(12))
    key: Mapped[str] = mapped_column(String(400))
    department_id: Mapped[str] = mapped_column(ForeignKey("department.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id"), index=True)
    supervised_by: Mapped[str] = mapped_column(String(64))
    supervised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
