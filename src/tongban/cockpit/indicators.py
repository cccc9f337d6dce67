"""The cockpit's own indicator, over the platform's core tables (no slice's): the active staff
accounts of each department, placed at the department's region. It shows who staffs the
platform, and lets the warnings catch a department too thin to separate review from approval."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select

from tongban.core.i18n import N_
from tongban.core.identity.models import Account, Department
from tongban.core.indicators import Cell, Indicator


def _staff(session: Any, *, day_from: dt.date, day_to: dt.date) -> Iterator[Cell]:
    rows = session.execute(
        select(Department.region_code, Department.id, func.count(Account.id))
        .join(Account, Account.department_id == Department.id)
        .where(Account.kind == "staff", Account.active.is_(True))
        .group_by(Department.region_code, Department.id))
    for region, department, n in rows:
        yield Cell(day_to, region, (department,), {"staff": float(n)})


STAFF = Indicator(
    key="cockpit.staff", label=N_("Staff accounts"),
    definition=N_("Active staff accounts of each department on the day, at the department's region."),
    measures=("staff",), show="count", of=("staff",), compute=_staff, dimensions=("department",),
    kind="stock", subjects="staff", unit=N_("people"),
    measure_labels={"staff": N_("Staff accounts")}, dimension_labels={"department": N_("Department")})

INDICATORS = (STAFF,)
