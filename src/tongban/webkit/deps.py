"""Request dependencies: the unit of work, the caller, the locale; for pages, the caller with the
page language settled (`PagePrincipal`) and the caller who must be signed in (`SignedIn`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from tongban.core import access
from tongban.core.access import ANONYMOUS, Principal
from tongban.core.config import Settings
from tongban.core.db import Database
from tongban.core.i18n import set_locale
from tongban.core.identity import service as identity
from tongban.core.identity import token_cache
from tongban.core.security import token_digest
from tongban.webkit.templating import resolve_locale

SESSION_COOKIE = "tongban_session"


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _unit_of_work(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed before the response is sent, rolled back on error.

    Opening a session does no I/O, so it happens here on the event loop; the commit (or the
    rollback) goes to the thread pool with the session's other database work."""
    db: Database = request.app.state.db
    session = db.sessionmaker()
    session.info[_DB] = db
    request.state.session = session
    try:
        yield session
    except BaseException:
        if not session.info.get(_ENDED):
            await run_in_threadpool(db.end_unit_of_work, session, commit=False)
        raise
    if not session.info.get(_ENDED):
        await run_in_threadpool(db.end_unit_of_work, session, commit=True)


_DB, _ENDED = "tongban.db", "tongban.unit_of_work_ended"


def commit_now(session: Session) -> None:
    """End the request's unit of work from inside a (sync) endpoint, in its thread: committed,
    closed, after-commit hooks run. Saves the thread hop the dependency would take for it after
    the endpoint; call it last, once the answer is built (loaded attributes stay readable)."""
    db: Database = session.info[_DB]
    session.info[_ENDED] = True
    db.end_unit_of_work(session, commit=True)


DbSession = Annotated[Session, Depends(_unit_of_work, scope="function")]


async def _principal(request: Request, session: DbSession) -> Principal:
    """Bearer token first (API), then the session cookie (web pages). A bearer token resolved a
    moment ago is taken from the token cache without a query (see `token_cache`)."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        secret = auth[7:].strip()
        digest, db_url = token_digest(secret), request.app.state.db.url
        principal = token_cache.get(db_url, digest)
        if principal is None:
            seen = token_cache.generation()
            found = await run_in_threadpool(identity.token_lookup, session, secret, "bearer")
            principal = found[0] if found else ANONYMOUS
            if found:
                token_cache.put(db_url, digest, principal, found[1].expires_at, seen)
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        found = await run_in_threadpool(identity.token_lookup, session, cookie, "session") if cookie else None
        principal = found[0] if found else ANONYMOUS
        if found:
            request.state.csrf_token = found[1].csrf_token
    request.state.principal = principal
    return principal


async def _principal_with_locale(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    """Apply the account's language. Async on purpose: a context variable set in a sync
    dependency stays in its worker thread; set here it holds for the route and its errors."""
    if principal.locale:
        set_locale(principal.locale)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_principal_with_locale)]

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def writes_need_login(request: Request, principal: CurrentPrincipal) -> None:
    """Every API write needs a signed-in caller (logging in is on a router of its own).

    Declared on the API routers, so it is solved before the route's body model is validated:
    an anonymous POST is told 401, not 422 about a body nobody may send."""
    if request.method in _WRITES:
        access.require_login(principal)


def needs(*permissions: str) -> Any:
    """A route dependency: the caller must be signed in and hold one of `permissions`. Solved
    before the body is validated, so a caller without the right is told 403 (audited), not 422;
    the service still checks (this is the early answer, not the only guard)."""

    async def _needs(principal: CurrentPrincipal) -> None:
        access.require_login(principal)
        access.require_any(principal, *permissions)

    return Depends(_needs)


# --- page dependencies --------------------------------------------------------------------------


async def _page_principal(request: Request, principal: CurrentPrincipal) -> Principal:
    """The caller, with the page language settled (account > cookie > Accept-Language > zh_CN).

    Async on purpose: the locale set here holds for the rest of the request's task, so the
    route, its templates and any error handler speak the same language.
    """
    locale = resolve_locale(request, principal)
    set_locale(locale)
    request.state.locale = locale
    return principal


PagePrincipal = Annotated[Principal, Depends(_page_principal)]


class LoginRedirect(Exception):
    """A visitor opened a page that needs a login: send them to it, then back."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


async def _signed_in(request: Request, principal: PagePrincipal) -> Principal:
    if principal.kind == "anonymous":
        raise LoginRedirect(request_path(request))
    return principal


SignedIn = Annotated[Principal, Depends(_signed_in)]


def request_path(request: Request) -> str:
    """The path and query a visitor asked for (where the login page sends them back to)."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")
