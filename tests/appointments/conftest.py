"""Appointments fixtures: the demo pack (places, departments, roles, resources) under the test
clock, residents with ID numbers and the officers serving the demo's resources."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.factories import make_resident, make_staff
from tongban.core.identity import service as identity
from tongban.core.identity.models import Account
from tongban.core.packs.loader import load_pack

PACK = Path(__file__).resolve().parents[2] / "packs" / "demo"
HALL = "appt.hall-haishu.social-security"  # Mon–Fri 09:00-11:30,13:30-16:30, 30 min, 4 places, 14 days
CLINIC = "appt.clinic-001001.vaccination"  # 15 min, 3 places, 2 bookings a day per resident


def id_number(i: int) -> str:
    return f"33020319900101{i:04d}"


@pytest.fixture()
def appt(db, clock):  # type: ignore[no-untyped-def]
    """The demo pack, 3 residents (resident.a/b/c), officer.hrss (serves HALL), officer.cdc
    (serves CLINIC) and admin.hrss (may change HALL's rules)."""
    with db.unit_of_work() as s:
        load_pack(s, PACK)
        for i, name in enumerate(("resident.a", "resident.b", "resident.c"), 1):
            make_resident(s, name, id_number=id_number(i))
        make_staff(s, "officer.hrss", department_id="dept.haishu.hrss", roles=["officer"])
        make_staff(s, "officer.cdc", department_id="dept.haishu.cdc", roles=["officer"])
        make_staff(s, "admin.hrss", department_id="dept.haishu.hrss", roles=["dept_admin"])
    return db


@pytest.fixture()
def who(appt) -> Callable[[str], Any]:  # type: ignore[no-untyped-def]
    """The principal of a username (read afresh)."""
    def principal(username: str) -> Any:
        with appt.unit_of_work() as s:
            acc = s.scalars(select(Account).where(Account.username == username)).one()
            return identity.principal_for_account(s, acc)
    return principal


THU = dt.date(2025, 6, 12)  # the day after the test clock's Wednesday
FRI = dt.date(2025, 6, 13)
