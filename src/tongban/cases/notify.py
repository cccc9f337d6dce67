"""Who is told of a case's steps. Notification goes through the messages slice once it lands
(issue #24); until then the steps are on the case's timeline and the department's queue only."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tongban.cases.models import Case


def department(session: Session, case: Case, department_id: str | None, kind: str) -> None:
    """The department's staff: a case was dispatched to them, or supervised (督办)."""


def reporter(session: Session, case: Case, kind: str) -> None:
    """The reporter with an account: their case was answered or closed."""
