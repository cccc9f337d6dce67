"""CSV and XLSX exports of an indicator table: exactly what the caller sees (scoped, suppressed),
each export recorded in the audit chain (`cockpit.export`)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tongban.cockpit import figures
from tongban.core import access
from tongban.core.audit import log as audit
from tongban.core.errors import Invalid
from tongban.core.i18n import N_, gettext

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass
class Export:
    content: bytes
    filename: str
    media_type: str
    rows: int


def _header(t: figures.Table) -> list[str]:
    ind = t.indicator
    labels = ind.dimension_labels or {}
    measures = ind.measure_labels or {}
    return ([gettext(N_("Region code")), gettext(N_("Region"))]
            + [gettext(labels.get(d, d)) for d in ind.dimensions]
            + [gettext(measures.get(m, m)) for m in ind.measures]
            + [gettext(ind.label), gettext(N_("Note"))])


def _cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula (=, +, -, @) is kept as text."""
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") else value


def _lines(t: figures.Table) -> list[list[object]]:
    out: list[list[object]] = []
    for r in (*t.total, *t.rows):
        figures_: list[object]
        if r.suppressed:
            figures_ = [*("" for _ in t.indicator.measures), "", gettext(N_("Suppressed (small count)"))]
        else:
            value = figures.shown(t.indicator, r.measures)
            figures_ = [*(r.measures[m] for m in t.indicator.measures), "" if value is None else round(value, 6), ""]
        out.append([_cell(v) for v in (r.code, figures.region_label(t, r), *figures.key_labels(t, r), *figures_)])
    return out


def export(session: Session, principal: access.Principal, key: str, fmt: str, *, level: str | None = None,
           region: str | None = None, day_from: dt.date | None = None, day_to: dt.date | None = None) -> Export:
    """The table as a file, audited in the caller's transaction."""
    if fmt not in FORMATS:
        raise Invalid(N_("Unknown export format"), field="format")
    t = figures.table(session, principal, key, level=level, region=region, day_from=day_from, day_to=day_to)
    header, lines = _header(t), _lines(t)
    meta = [gettext(N_("As of")), t.as_of.isoformat() if t.as_of else "",
            gettext(N_("Period")), f"{t.period.day_from.isoformat()}/{t.period.day_to.isoformat()}"]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(meta)
        w.writerow(header)
        w.writerows(lines)
        content = ("\ufeff" + buf.getvalue()).encode("utf-8")  # the BOM: Excel reads it as UTF-8
    else:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = key[:31]
        sheet.append(meta)
        sheet.append(header)
        for line in lines:
            sheet.append(line)
        out = io.BytesIO()
        book.save(out)
        content = out.getvalue()
    audit.record(session, actor=principal.actor, action="cockpit.export", actor_department=principal.department_id,
                 subject=f"indicator:{key}", region_code=t.region,
                 details={"format": fmt, "level": t.level, "from": t.period.day_from.isoformat(),
                          "to": t.period.day_to.isoformat(), "rows": len(lines), "department": t.department})
    name = f"{key}-{t.region}-{t.level}-{t.period.day_from:%Y%m%d}-{t.period.day_to:%Y%m%d}.{fmt}"
    return Export(content, name, FORMATS[fmt], len(lines))
