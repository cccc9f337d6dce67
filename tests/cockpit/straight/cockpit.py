"""Straight check of the cockpit's own indicator: staff accounts per department, counted in Python
over every account row (the indicator counts with SQL GROUP BY)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import select

from tongban.core.identity.models import Account, Department


def staff(session: Any, *, day_from: dt.date, day_to: dt.date) -> dict[tuple[dt.date, str, tuple[str, ...]],
                                                                         dict[str, float]]:
    region_of = dict(session.execute(select(Department.id, Department.region_code)).all())
    counted: Counter[tuple[dt.date, str, tuple[str, ...]]] = Counter()
    for account in session.scalars(select(Account)):
        if account.kind == "staff" and account.active and account.department_id:
            counted[(day_to, region_of[account.department_id], (account.department_id,))] += 1
    return {cell: {"staff": float(n)} for cell, n in counted.items()}


STRAIGHT = {"cockpit.staff": staff}
