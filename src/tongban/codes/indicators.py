"""The codes slice's figure for the cockpit (`core.indicators`): codes by status at the end of a
day — issued and in force, or revoked — per issuing department and code type, one grouped query.
A code's place is its issuing department's region: the code knows no finer one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tongban.codes.models import CodeType, IssuedCode
from tongban.core.i18n import N_, gettext, pick
from tongban.core.identity.models import Department
from tongban.core.indicator_sql import cells, utc_bounds
from tongban.core.indicators import Cell, Indicator


def by_status(session: Session, *, day_from: dt.date, day_to: dt.date) -> list[Cell]:
    """Stock at the end of `day_to`: codes issued by then, per department, type and status
    (`valid`: not revoked by then; `revoked`)."""
    _, end = utc_bounds(day_to, day_to)
    status = case((IssuedCode.revoked_at < end, "revoked"), else_="valid")
    rows = session.execute(
        select(Department.region_code, IssuedCode.issuer_department_id, IssuedCode.type_id, status, func.count())
        .join(Department, Department.id == IssuedCode.issuer_department_id)
        .where(IssuedCode.issued_epoch < int(end.timestamp()))
        .group_by(Department.region_code, IssuedCode.issuer_department_id, IssuedCode.type_id, status))
    return cells(((day_to, *r) for r in rows), dimensions=3, measures=("codes",))


STATUS_LABELS = {"valid": N_("In force"), "revoked": N_("Revoked")}


def value_labels(session: Session, dimension: str) -> dict[str, str]:
    """A code type by its title, a status in words."""
    if dimension == "type":
        return {i: pick({"zh": zh, "en": en}) for i, zh, en in
                session.execute(select(CodeType.id, CodeType.title_zh, CodeType.title_en))}
    return {k: gettext(v) for k, v in STATUS_LABELS.items()} if dimension == "status" else {}


INDICATORS = (
    Indicator(key="codes.by_status", label=N_("Codes by status"),
              definition=N_("Codes issued by the end of the day, in force or revoked, per issuing department and "
                            "code type."),
              measures=("codes",), show="count", of=("codes",), compute=by_status,
              dimensions=("department", "type", "status"), kind="stock", subjects="codes", unit=N_("codes"),
              measure_labels={"codes": N_("Codes")},
              dimension_labels={"department": N_("Issuing department"), "type": N_("Code type"),
                                "status": N_("Status")},
              value_labels=value_labels),
)
