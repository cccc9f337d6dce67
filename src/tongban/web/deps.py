"""Request dependencies: the unit of work, the caller, the locale."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from tongban.core.access import ANONYMOUS, Principal
from tongban.core.config import Settings
from tongban.core.db import Database
from tongban.core.identity import service as identity

SESSION_COOKIE = "tongban_session"


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _unit_of_work(request: Request) -> Iterator[Session]:
    """One transaction per request: committed before the response is sent, rolled back on error."""
    db: Database = request.app.state.db
    with db.unit_of_work() as session:
        request.state.session = session
        yield session


DbSession = Annotated[Session, Depends(_unit_of_work, scope="function")]


def _principal(request: Request, session: DbSession) -> Principal:
    """Bearer token first (API), then the session cookie (web pages)."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        found = identity.token_lookup(session, auth[7:].strip(), "bearer")
        principal = found[0] if found else ANONYMOUS
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        found = identity.token_lookup(session, cookie, "session") if cookie else None
        principal = found[0] if found else ANONYMOUS
        if found:
            request.state.csrf_token = found[1].csrf_token
    request.state.principal = principal
    return principal


async def _principal_with_locale(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    """Apply the account's language. Async on purpose: a context variable set in a sync
    dependency stays in its worker thread; set here it holds for the route and its errors."""
    if principal.locale:
        from tongban.core.i18n import set_locale

        set_locale(principal.locale)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_principal_with_locale)]
