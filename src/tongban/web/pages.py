"""Server-rendered pages: login and logout, the home redirect, the language and 长辈版 (elder
mode) switches, and the shells the faces grow into — /portal (residents) and /workbench (staff);
the cockpit (/cockpit, leaders) is the cockpit slice's — plus HTML error pages for browsers.

Page routers of every slice reuse the request kit's `PagePrincipal` (the caller, with the page
language settled), `SignedIn` (the same, sending visitors to the login page) and
`templating.render`; CSRF is enforced for every form by `csrf.CsrfMiddleware`, installed here.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import anyio
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from tongban.core import slices
from tongban.core.access import ANONYMOUS, PERMISSIONS, Principal, require, require_any
from tongban.core.errors import TongbanError
from tongban.core.i18n import N_, gettext, pick, set_locale
from tongban.core.identity import service as identity
from tongban.core.identity.models import Account, Department, Region, Role
from tongban.core.slices import Contribution, Link
from tongban.core.throttle import Throttle
from tongban.services import catalog
from tongban.webkit import assets, csrf, display
from tongban.webkit.deps import (
    SESSION_COOKIE,
    DbSession,
    LoginRedirect,
    PagePrincipal,
    SignedIn,
    get_settings,
    request_path,
)
from tongban.webkit.templating import (
    LOCALE_COOKIE,
    add_template_dir,
    normalise_locale,
    render,
    render_error,
    resolve_locale,
    wants_html,
)

log = logging.getLogger("tongban.web")
STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
PREFERENCE_MAX_AGE = 365 * 24 * 3600

# Any staff-side permission opens the workbench; residents (self.*) and machine clients do not.
# open.apply: anyone registered may apply for restricted open data; it is no staff work.
WORKBENCH_PERMISSIONS = tuple(p for p in PERMISSIONS
                              if not p.startswith("self.") and p not in ("exchange.read", "open.apply"))


# The home pages' tiles: each slice contributes its own (its `slice.py`, to "web.portal_tiles" and
# "web.workbench_tiles"); the app adds those of features not built yet (no href) in their places.
PORTAL, WORKBENCH = "web.portal_tiles", "web.workbench_tiles"
APP_TILES = (
    Contribution(WORKBENCH, Link("audit", N_("Audit trail"), N_("Who read or changed what, and why"),
                                 needs=("audit.read.department", "audit.read.all")), 60),
)


@cache
def tiles(page: str) -> tuple[Link, ...]:
    """The tiles of a home page: the app's and the slices' contributions, in their `order`."""
    found = [c for c in APP_TILES if c.to == page] + slices.contributions(page)
    return tuple(c.target for c in sorted(found, key=lambda c: c.order) if isinstance(c.target, Link))


def safe_next(value: str | None) -> str | None:
    """A local path to return to after a form, or None (no open redirects)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(ord(ch) < 32 for ch in value):
        return None
    return value


def home_for(principal: Principal) -> str:
    """Where `/` sends the caller."""
    if principal.kind == "anonymous":
        return "/login"
    if principal.kind == "resident":
        return "/portal"
    if principal.has("cockpit.view") and not any(
        principal.has(p) for p in WORKBENCH_PERMISSIONS if not p.startswith("cockpit.")
    ):
        return "/cockpit"
    return "/workbench"


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _role_names(session: Session, principal: Principal) -> list[str]:
    if not principal.roles:
        return []
    rows = session.scalars(select(Role).where(Role.id.in_(sorted(principal.roles)))).all()
    return [pick({"zh": r.name_zh, "en": r.name_en}) for r in sorted(rows, key=lambda r: r.id)]


def _region_name(session: Session, code: str | None) -> str | None:
    region = session.get(Region, code) if code else None
    return pick({"zh": region.name_zh, "en": region.name_en}) if region else None


def _department_name(session: Session, department_id: str | None) -> str | None:
    dept = session.get(Department, department_id) if department_id else None
    return pick({"zh": dept.name_zh, "en": dept.name_en}) if dept else None


def _set_preference_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, max_age=PREFERENCE_MAX_AGE, path="/", httponly=True, samesite="lax",
                        secure=get_settings(request).cookie_secure)


# --- routes -------------------------------------------------------------------------------------

router = APIRouter(include_in_schema=False)


@router.get("/favicon.ico")
def favicon() -> Response:
    """What browsers ask for on their own (a page names /static/favicon.svg): the same icon."""
    return Response((STATIC_DIR / "favicon.svg").read_bytes(), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})


@router.get("/")
def home(principal: PagePrincipal) -> Response:
    return _see_other(home_for(principal))


@router.get("/login")
def login_form(request: Request, principal: PagePrincipal, next: str | None = None) -> Response:
    if principal.kind != "anonymous":
        return _see_other(safe_next(next) or home_for(principal))
    return render(request, "login.html", {"next": safe_next(next) or "", "username": ""},
                  principal=ANONYMOUS)


LOGIN_FAILURES = {
    "locked": (423, N_("Too many failed attempts; the account is locked for a while")),
    "bad-credentials": (401, N_("Wrong username or password")),
    "inactive": (401, N_("Wrong username or password")),
}


@router.post("/login")
def login(
    request: Request,
    session: DbSession,
    principal: PagePrincipal,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the form (its CSRF token was checked by the middleware); on success start a session."""
    settings = get_settings(request)
    username = username.strip()
    form = {"next": safe_next(next) or "", "username": username}
    missing = "username" if not username else "password" if not password else None
    if missing:
        return render(request, "login.html", {**form, "error": gettext(N_("This field is required")),
                                              "error_field": missing}, status_code=422, principal=ANONYMOUS)
    guard: Throttle = request.app.state.throttle
    source, name = (request.client.host if request.client else "unknown"), f"password:{username}"
    guard.check_login(account=name, source=source)
    outcome = identity.login_password(session, username=username, password=password)
    if outcome.failure is not None or outcome.account is None:
        # The failure count and its audit event must survive the refusal: commit them now.
        session.commit()
        guard.failed_login(account=name, source=source)
        status, message = LOGIN_FAILURES.get(outcome.failure or "", LOGIN_FAILURES["bad-credentials"])
        field = None if outcome.failure == "locked" else "password"
        return render(request, "login.html", {**form, "error": gettext(message), "error_field": field},
                      status_code=status, principal=ANONYMOUS)
    guard.succeeded_login(account=name, source=source)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        identity.revoke_token(session, old)  # a new login never reuses an older session
    secret, _row = identity.issue_token(session, kind="session", ttl_seconds=settings.session_ttl_seconds,
                                        account=outcome.account)
    me = identity.principal_for_account(session, outcome.account)
    response = _see_other(safe_next(next) or home_for(me))
    response.set_cookie(SESSION_COOKIE, secret, max_age=settings.session_ttl_seconds, path="/",
                        httponly=True, samesite="lax", secure=settings.cookie_secure)
    csrf.clear_form_cookie(request, response)
    account_locale = normalise_locale(outcome.account.locale)
    if account_locale:
        _set_preference_cookie(request, response, LOCALE_COOKIE, account_locale)
    # 长辈版 chosen on the login page is kept by the account; the cookie then follows the account,
    # so the login page after signing out looks as the person left it.
    if request.cookies.get(display.ELDER_COOKIE) == display.ELDER_ON and not outcome.account.elder_mode:
        outcome.account.elder_mode = True
    _set_preference_cookie(request, response, display.ELDER_COOKIE,
                           display.ELDER_ON if outcome.account.elder_mode else display.ELDER_OFF)
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession, principal: PagePrincipal) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        identity.revoke_token(session, cookie)
    response = _see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=get_settings(request).cookie_secure)
    return response


@router.post("/preferences/language")
def set_language(
    request: Request, session: DbSession, principal: PagePrincipal,
    locale: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "",
) -> Response:
    """The language switch: a cookie for everyone, and the account's preference when signed in."""
    chosen = normalise_locale(locale)
    if chosen is None:
        return render_error(request, 422, gettext(N_("The request is not valid")),
                            gettext(N_("Unknown language")), principal=principal)
    if principal.account_id is not None:
        account = session.get(Account, principal.account_id)
        if account is not None:
            account.locale = chosen
    response = _see_other(safe_next(next) or "/")
    _set_preference_cookie(request, response, LOCALE_COOKIE, chosen)
    return response


@router.post("/preferences/elder")
def set_elder_mode(
    request: Request, session: DbSession, principal: PagePrincipal,
    mode: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "",
) -> Response:
    """长辈版 on or off: kept by the account when signed in (every device, every session), and in
    a cookie for the pages before signing in."""
    if mode not in (display.ELDER_ON, display.ELDER_OFF):
        return render_error(request, 422, gettext(N_("The request is not valid")),
                            gettext(N_("Unknown display mode")), principal=principal)
    if principal.account_id is not None:
        account = session.get(Account, principal.account_id)
        if account is not None:
            account.elder_mode = mode == display.ELDER_ON
    response = _see_other(safe_next(next) or "/")
    _set_preference_cookie(request, response, display.ELDER_COOKIE, mode)
    return response


@router.get("/portal")
def portal(request: Request, session: DbSession, principal: SignedIn) -> Response:
    """The resident's front door: 我要办 / 我要查 / 我要评 / 我要说, messages, certificates.
    In 长辈版 the simpler home (elder_home.html) unless the resident asks for every service."""
    require(principal, "self.read")
    if principal.elder_mode and request.query_params.get("all") != "1":
        return render(request, "elder_home.html", elder_home(request, principal))
    return render(request, "portal.html", {
        "roles": _role_names(session, principal),
        "region": _region_name(session, principal.region_code),
        "tiles": [t for t in tiles(PORTAL) if t.opens_for(principal)],
        "life_events": catalog.life_events(),
    })


@router.get("/workbench")
def workbench(request: Request, session: DbSession, principal: SignedIn) -> Response:
    """The staff workbench: who you are, where you act, what your roles allow."""
    require_any(principal, *WORKBENCH_PERMISSIONS)
    return render(request, "workbench.html", {
        "roles": _role_names(session, principal),
        "department": _department_name(session, principal.department_id),
        "region": _region_name(session, principal.region_code),
        "tiles": [t for t in tiles(WORKBENCH) if t.opens_for(principal)],
    })


# The few things older residents do, in this order: (key, label, hint, path). 找人帮我办 opens the
# proxies page when the app has one, else it offers the help line.
ELDER_TASKS = (
    ("apply", N_("Get something done"), N_("Apply for a certificate, an allowance or a permit"), "/portal/apply"),
    ("progress", N_("Check progress"), N_("See where your applications are"), "/portal/applications"),
    ("wallet", N_("My certificates"), N_("Your certificates and their codes"), "/portal/wallet"),
    ("proxy", N_("Ask someone to do it for me"), N_("Let a family member apply for you"), "/portal/proxies"),
)


def _paths(routes: Any, prefix: str = "") -> Iterator[str]:
    for route in routes:
        inner = getattr(route, "original_router", None)  # a router included into the app
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _paths(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif isinstance(getattr(route, "path", None), str):
            yield prefix + route.path


def _has_page(request: Request, path: str) -> bool:
    return any(p == path for p in _paths(request.app.routes))


def elder_home(request: Request, principal: Principal) -> dict[str, Any]:
    """What the 长辈版 home shows: its big buttons (a path missing from the app is left out, but
    找人帮我办, which falls back to the help line)."""
    tasks: list[dict[str, str | None]] = []
    for key, label, hint, path in ELDER_TASKS:
        if _has_page(request, path):
            tasks.append({"key": key, "label": label, "hint": hint, "href": path})
        elif key == "proxy":
            tasks.append({"key": key, "label": label, "hint": N_("Call the help line and we will help you"),
                          "href": None})
    return {"tasks": tasks}


# --- error pages --------------------------------------------------------------------------------

Handler = Callable[[Request, Any], Awaitable[Response]]
AnyHandler = Callable[[Request, Any], Response | Awaitable[Response]]


def _cookie_principal(db: Any, secret: str) -> tuple[Principal, str | None] | None:
    with db.unit_of_work() as session:
        found = identity.token_lookup(session, secret, "session")
        return (found[0], found[1].csrf_token) if found else None


async def _caller(request: Request, *, lookup: bool) -> Principal:
    """Who is asking, for an error page: from the request if a route ran, else from the cookie."""
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal):
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if lookup and cookie:
        try:
            found = await anyio.to_thread.run_sync(_cookie_principal, request.app.state.db, cookie)
        except Exception:  # an error page must not fail because the database did
            log.exception("could not look up the session for an error page")
            found = None
        if found:
            request.state.csrf_token = found[1]
            request.state.principal = found[0]
            return found[0]
    return ANONYMOUS


def _html_variant(original: AnyHandler, *, lookup: bool) -> Handler:
    """Wrap a problem+json handler: same decision and language, an HTML page for browsers."""

    async def handler(request: Request, exc: Any) -> Response:
        principal = await _caller(request, lookup=lookup)
        locale = resolve_locale(request, principal)
        set_locale(locale)
        request.state.locale = locale
        result = original(request, exc)
        response = await result if inspect.isawaitable(result) else result
        if not wants_html(request) or response.media_type != "application/problem+json":
            return response
        if response.status_code == 401:
            return _see_other("/login?next=" + quote(request_path(request), safe="/"))
        try:
            body = json.loads(bytes(response.body))
            detail = body.get("detail")
            return render_error(request, response.status_code, body.get("title", ""),
                                detail if detail != body.get("title") else None, principal=principal)
        except Exception:  # the problem+json answer still stands
            log.exception("could not render an error page")
            return response

    return handler


def _install_error_pages(app: FastAPI) -> None:
    for exc_class, lookup in ((TongbanError, True), (StarletteHTTPException, True),
                              (RequestValidationError, True), (Exception, False)):
        original = app.exception_handlers.get(exc_class)
        if original is not None:
            app.add_exception_handler(exc_class, _html_variant(original, lookup=lookup))

    @app.exception_handler(LoginRedirect)
    async def _to_login(request: Request, exc: LoginRedirect) -> Response:
        return _see_other("/login?next=" + quote(exc.next_path, safe="/"))


def install(app: FastAPI) -> None:
    add_template_dir(TEMPLATES_DIR)
    assets.configure(STATIC_DIR)
    app.mount("/static", assets.FingerprintedStatic(directory=STATIC_DIR), name="static")
    app.include_router(router)
    _install_error_pages(app)
    app.add_middleware(csrf.CsrfMiddleware)
