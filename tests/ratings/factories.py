"""Finished things to rate, made straight in the tables of their slices (the full flows are the
services' and the cases' own tests, and the browser test's)."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.cases.models import Case
from tongban.core import clock
from tongban.core.identity.models import Account
from tongban.services.models import Application, Task


def account_id(session: Session, username: str) -> int:
    found = session.scalar(select(Account.id).where(Account.username == username))
    assert found is not None, username
    return int(found)


def completed_application(session: Session, *, username: str = "resident.zhang", item_id: str = "item.vaccination",
                          department_id: str = "dept.haishu.cdc", region_code: str = "330203001001",
                          status: str = "completed", onething_id: str | None = None,
                          tasks: tuple[tuple[str, str], ...] = ()) -> int:
    """An application of one item (or a one-thing's `tasks`: item, department), approved and finished now."""
    now = clock.now()
    who = account_id(session, username)
    app = Application(applicant_account_id=who, filed_by_account_id=who, item_id=None if onething_id else item_id,
                      onething_id=onething_id, status=status, data={},
                      region_code=region_code, idempotency_key=secrets.token_hex(8), request_hash="0" * 64,
                      filing="self", submitted_at=now, finished_at=now if status != "in_progress" else None,
                      created_at=now)
    session.add(app)
    session.flush()
    for item, department in tasks or ((item_id, department_id),):
        session.add(Task(application_id=app.id, item_id=item, department_id=department,
                         status="approved" if status != "in_progress" else "ready", requires=[], inputs={},
                         outputs={}, decided_at=now))
    session.flush()
    return app.id


def closed_case(session: Session, *, username: str = "resident.zhang", department_id: str = "dept.haishu.market",
                region_code: str = "330203005001", category_id: str = "case.food") -> int:
    now = clock.now()
    case = Case(public_id=secrets.token_hex(16), kind="hotline", type="complaint", category_id=category_id,
                description="测试诉求", region_code=region_code, channel="portal",
                reporter_account_id=account_id(session, username), anonymous=False, filed_by="test", status="closed",
                department_id=department_id, assist_department_ids=[], clock_started_on=clock.today(),
                due_date=clock.today(), reply="已处理", replied_at=now, closed_at=now, created_at=now, updated_at=now)
    session.add(case)
    session.flush()
    return case.id
