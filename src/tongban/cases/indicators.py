"""The cases slice's figures for the cockpit (`core.indicators`): 12345 cases and grid events by
type, with how many of them were closed, went overdue and were merged (并单) — one grouped query
over the cases, counted by the day each was received."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from tongban.cases.engine import TYPE_LABELS
from tongban.cases.models import Case
from tongban.core.i18n import N_, gettext
from tongban.core.indicator_sql import cells, local_day, utc_bounds
from tongban.core.indicators import Cell, Indicator

MEASURES = ("cases", "closed", "overdue", "merged")


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def by_type(session: Session, *, day_from: dt.date, day_to: dt.date) -> list[Cell]:
    """Cases received, by day received, the case's community, its department (主办; "" while
    none) and type: how many, how many are closed (办结), were flagged overdue, were merged."""
    start, end = utc_bounds(day_from, day_to)
    day = local_day(Case.created_at)
    department = func.coalesce(Case.department_id, "")
    rows = session.execute(
        select(day, Case.region_code, department, Case.type, func.count(),
               _count_if(Case.status == "closed"), _count_if(Case.overdue_at.is_not(None)),
               _count_if(Case.status == "merged"))
        .where(Case.created_at >= start, Case.created_at < end)
        .group_by(day, Case.region_code, department, Case.type))
    return cells(rows, dimensions=2, measures=MEASURES)


def value_labels(session: Session, dimension: str) -> dict[str, str]:
    """A case type in words (咨询, 投诉 …, 网格事件)."""
    return {t: gettext(label) for t, label in TYPE_LABELS.items()} if dimension == "type" else {}


_COMMON = dict(value_labels=value_labels, measures=MEASURES, compute=by_type, dimensions=("department", "type"), subjects="cases",
               measure_labels={"cases": N_("Cases received"), "closed": N_("Closed"), "overdue": N_("Overdue"),
                               "merged": N_("Merged")},
               dimension_labels={"department": N_("Department"), "type": N_("Case type")})

INDICATORS = (
    Indicator(key="cases.received", label=N_("Cases received"),
              definition=N_("12345 cases and grid events received, by the day received and the case's community, "
                            "per department and type."),
              show="count", of=("cases",), unit=N_("cases"), **_COMMON),  # type: ignore[arg-type]
    Indicator(key="cases.closure_rate", label=N_("Closure rate"),
              definition=N_("Cases received that day that are now closed (办结), out of the cases received."),
              show="ratio", of=("closed", "cases"), unit="%", **_COMMON),  # type: ignore[arg-type]
    Indicator(key="cases.overdue_rate", label=N_("Overdue rate"),
              definition=N_("Cases received that day that went past their due date while with a department, "
                            "out of the cases received."),
              show="ratio", of=("overdue", "cases"), unit="%", **_COMMON),  # type: ignore[arg-type]
    Indicator(key="cases.merge_rate", label=N_("Merge rate"),
              definition=N_("Cases received that day that were merged (并单) into another case on the same "
                            "matter, out of the cases received."),
              show="ratio", of=("merged", "cases"), unit="%", **_COMMON),  # type: ignore[arg-type]
)
