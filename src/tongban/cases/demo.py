"""The demo's cases (`demo_cases.yaml`, kept by the pack loader as a setting): filed by the cast
through the engine, taken through their steps by the departments' officers and the 12345
operator, and backdated, so the demo shows open, overdue (督办), answered and closed cases."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.cases import engine
from tongban.cases.models import Case, CaseEvent, CaseSetting
from tongban.core import access, clock, workdays
from tongban.core.identity import service as identity
from tongban.core.identity.models import Account


def _principal(session: Session, username: str) -> access.Principal:
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise LookupError(f"no cast member {username!r}")
    return identity.principal_for_account(session, account)


def _staff(session: Session, department_id: str | None, permission: str, region: str) -> access.Principal:
    if department_id is not None:
        for account in session.scalars(select(Account).where(Account.department_id == department_id,
                                                             Account.kind == "staff").order_by(Account.id)):
            p = identity.principal_for_account(session, account)
            if access.files_cases_for_department(p, permission, region):
                return p
    for account in session.scalars(select(Account).where(Account.kind == "staff").order_by(Account.id)):
        p = identity.principal_for_account(session, account)
        if access.files_cases_for_department(p, permission, region):
            return p
    raise LookupError(f"no staff with {permission} for {department_id} in {region}")


def _backdate(session: Session, case: Case, days: int) -> None:
    delta = dt.timedelta(days=days)
    case.created_at -= delta
    case.updated_at -= delta
    case.clock_started_on = clock.local_date(case.created_at)
    allowed = engine.time_limit(session, case.type, engine.category(session, case.category_id))
    case.due_date = workdays.calendar(session).add_working_days(case.clock_started_on, allowed)
    for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)):
        e.at -= delta


def seed_demo_cases(session: Session) -> int:
    """File the demo's cases not filed yet; returns how many were filed."""
    row = session.get(CaseSetting, "demo_cases")
    declared: list[dict[str, Any]] = row.value if row is not None else []
    filed = 0
    for d in declared:
        public_id = hashlib.sha256(f"demo:{d['key']}".encode()).hexdigest()[:32]
        if session.scalar(select(Case.id).where(Case.public_id == public_id)) is not None:
            continue
        reporter = _principal(session, d["reporter"])
        channel = "portal" if reporter.kind == "resident" else "grid"
        case = engine.file_case(session, principal=reporter, channel=channel, filing=engine.Filing(
            description=d["description"], category_id=d["category"], type=d.get("type"), region_code=d["region"],
            address=d["address"]))
        case.public_id = public_id
        if d["state"] != "open" and case.department_id is not None:
            officer = _staff(session, case.department_id, engine.HANDLE, case.region_code)
            engine.accept(session, principal=officer, case_id=case.id)
            if d["state"] in ("answered", "closed") and d.get("reply"):
                engine.reply(session, principal=officer, case_id=case.id, text=d["reply"])
            if d["state"] == "closed":
                operator = _staff(session, None, engine.OPERATE, case.region_code)
                engine.close(session, principal=operator, case_id=case.id)
                if d.get("rating") and reporter.kind == "resident":
                    engine.rate(session, principal=reporter, case_id=case.id, rating=int(d["rating"]))
        _backdate(session, case, int(d["filed_days_ago"]))
        filed += 1
    session.flush()
    engine.flag_overdue(session)
    return filed
