"""The demo's 好差评: the demo cases' ratings are given by the case engine's demo (through the
ratings slice); here the 差评 among them gets its return visit (回访) by its department's officer,
so the demo shows a rectification in progress. `tongban demo up` runs it after the cases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import access
from tongban.core.identity import service as identity
from tongban.core.identity.models import Account
from tongban.ratings import service
from tongban.ratings.models import Rectification

VISIT_NOTE = "已电话回访，群众反映店家整改后又有反复，将联合街道再次检查。"


def _officer(session: Session, department_id: str) -> access.Principal | None:
    for account in session.scalars(select(Account).where(Account.department_id == department_id,
                                                         Account.kind == "staff").order_by(Account.id)):
        p = identity.principal_for_account(session, account)
        if p.has(service.HANDLE):
            return p
    return None


def seed_demo(session: Session) -> int:
    """Record the return visit of each open rectification; returns how many."""
    done = 0
    for rect in session.scalars(select(Rectification).where(Rectification.status == "open").order_by(Rectification.id)):
        officer = _officer(session, rect.department_id)
        if officer is None or not access.in_subtree(rect.region_code, officer.region_code or "-"):
            continue
        service.advance(session, principal=officer, rectification_id=rect.id, step="visit", text=VISIT_NOTE)
        done += 1
    session.flush()
    return done
