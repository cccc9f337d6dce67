"""Quality API: runs, issues, transitions and scores; who may act; bad inputs."""

from __future__ import annotations

from sqlalchemy import select

from tongban.core.access import Principal
from tongban.core.identity.models import Account


def principal_of(db, username: str) -> Principal:  # type: ignore[no-untyped-def]
    from tongban.core.identity import service as identity

    with db.unit_of_work() as s:
        account = s.scalars(select(Account).where(Account.username == username)).one()
        return identity.principal_for_account(s, account)
