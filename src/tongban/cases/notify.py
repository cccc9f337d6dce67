"""Who is told of a case's steps, through the messages slice (`messages.send`, issue #24): the
department's queue when a case is dispatched to it; the queue, the department's head and the
region's supervising office (督查室) when it is supervised (督办); the reporter with an account
when their case is answered or closed. Params carry no personal data: the link shows the rest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban import messages
from tongban.cases.models import Case, CaseCategory
from tongban.core import access
from tongban.core.identity.models import Account, AccountRole

MESSAGE_KINDS = ("case.dispatched", "case.supervised", "case.replied", "case.closed")  # sent (`messages.kinds`)

HEAD_ROLE = "dept_head"
SUPERVISOR_ROLE = "supervisor"


def _params(session: Session, case: Case) -> dict[str, Any]:
    cat = session.get(CaseCategory, case.category_id)
    title = cat.definition["title"] if cat is not None else {"zh": case.category_id, "en": case.category_id}
    return {"category": title, "case": case.id, "due_date": case.due_date.isoformat()}


def _holders(session: Session, role: str, *, department_id: str | None = None,
             region_code: str | None = None) -> list[int]:
    q = (select(Account.id, Account.region_code).join(AccountRole, AccountRole.account_id == Account.id)
         .where(AccountRole.role_id == role, Account.active.is_(True), Account.kind == "staff"))
    if department_id is not None:
        q = q.where(Account.department_id == department_id)
    return [account_id for account_id, home in session.execute(q.order_by(Account.id))
            if region_code is None or (home is not None and access.in_subtree(region_code, home))]


def department(session: Session, case: Case, department_id: str | None, kind: str) -> None:
    """The department's staff: a case was dispatched to them, or supervised (督办)."""
    if department_id is None:
        return
    params, link = _params(session, case), f"/workbench/cases/{case.id}"
    with messages.batch(session):
        if kind == "supervised":
            messages.send(session, to=messages.Queue(department_id), kind="case.supervised", params=params, link=link)
            for account_id in {*_holders(session, HEAD_ROLE, department_id=department_id),
                               *_holders(session, SUPERVISOR_ROLE, region_code=case.region_code)}:
                messages.send(session, to=account_id, kind="case.supervised", params=params, link=link)
        else:
            messages.send(session, to=messages.Queue(department_id), kind="case.dispatched", params=params, link=link)


def reporter(session: Session, case: Case, kind: str) -> None:
    """The reporter with an account: their case was answered (`replied`) or closed."""
    if case.reporter_account_id is None:
        return
    messages.send(session, to=case.reporter_account_id, kind=f"case.{kind}", params=_params(session, case),
                  link=f"/portal/cases/{case.id}")
