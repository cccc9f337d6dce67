"""CSRF protection for everything a browser can post with a cookie.

One small ASGI middleware guards every state-changing request (POST, PUT, PATCH, DELETE):

* authenticated by the session cookie → the request must carry the session's own token
  (form field `csrf_token`, or the `X-CSRF-Token` header that htmx sends), compared in
  constant time;
* a page form with no live session (the login form, the language switch of a visitor) → a
  double-submit token: the same random value in the short-lived `tongban_csrf` cookie
  (HttpOnly, SameSite=Strict) and in the form;
* a Bearer-token API call, or an anonymous API call (under /api/, or Open311's under /open311/, which
  carries its api_key in the form), is not cookie-authenticated and is exempt.

A refused request never reaches a route, so nothing is written: a 403 page for a browser
form, problem+json for anything else. Templates put the token in forms with
`<input type="hidden" name="csrf_token" value="{{ csrf_token }}">`; `base.html` also sets
it as an htmx header on <body>.
"""

from __future__ import annotations

import base64
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
from fastapi import Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from tongban.core.access import Principal
from tongban.core.db import Database
from tongban.core.errors import Forbidden
from tongban.core.i18n import N_, gettext, set_locale
from tongban.core.identity import service as identity
from tongban.webkit.deps import SESSION_COOKIE

log = logging.getLogger("tongban.web")

CSRF_COOKIE = "tongban_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MASK_PREFIX = "m."
FORM_COOKIE_MAX_AGE = 2 * 3600  # the double-submit value lives two hours, renewed by each page view
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class CsrfRejected(Forbidden):
    """A state-changing request without the right CSRF token."""

    type_ = "csrf-failed"
    title = N_("This form has expired or did not come from this site")


REFUSAL_DETAIL = N_("Go back, reload the page and try again.")


def mask(token: str) -> str:
    """The token as a page embeds it: a fresh random pad and the token XORed with it, so the bytes
    differ on every page and a compressed response leaks nothing about it (BREACH)."""
    raw = token.encode("utf-8")
    pad = secrets.token_bytes(len(raw))
    return MASK_PREFIX + base64.urlsafe_b64encode(pad + bytes(a ^ b for a, b in zip(pad, raw, strict=True))).decode()


def unmask(supplied: str) -> str:
    """The token inside a masked value (`mask`); anything else is returned as it is."""
    if not supplied.startswith(MASK_PREFIX) or len(supplied) > 400:
        return supplied
    try:
        data = base64.urlsafe_b64decode(supplied[len(MASK_PREFIX):].encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return supplied
    half = len(data) // 2
    if not half or len(data) % 2:
        return supplied
    return bytes(a ^ b for a, b in zip(data[:half], data[half:], strict=True)).decode("utf-8", "replace")


def tokens_match(expected: str | None, supplied: str | None) -> bool:
    """Constant-time comparison (of the unmasked value); an empty or missing side never matches."""
    if not expected or not supplied:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), unmask(supplied).encode("utf-8"))


def _form_cookie_value(request: Request) -> str | None:
    value = request.cookies.get(CSRF_COOKIE)
    return value if value and _TOKEN_SHAPE.match(value) else None


def token_for_page(request: Request) -> str:
    """The token a page embeds: the session's, or (no session) the double-submit value — masked
    afresh for each page (`mask`), as pages are sent compressed."""
    session_token = getattr(request.state, "csrf_token", None)
    if session_token:
        return mask(str(session_token))
    value = getattr(request.state, "form_csrf", None)
    if value is None:
        value = _form_cookie_value(request) or secrets.token_urlsafe(32)
        request.state.form_csrf = value
    return mask(str(value))


def set_form_cookie(request: Request, response: Response) -> None:
    """Send (or renew) the double-submit cookie if this page embedded its value."""
    value = getattr(request.state, "form_csrf", None)
    if value is None:
        return
    settings = request.app.state.settings
    response.set_cookie(CSRF_COOKIE, value, max_age=FORM_COOKIE_MAX_AGE, path="/", httponly=True,
                        samesite="strict", secure=settings.cookie_secure)


def clear_form_cookie(request: Request, response: Response) -> None:
    settings = request.app.state.settings
    response.delete_cookie(CSRF_COOKIE, path="/", httponly=True, samesite="strict",
                           secure=settings.cookie_secure)


def _live_session(db: Database, secret: str) -> tuple[str | None, Principal] | None:
    """(csrf token, principal) of a live web session, or None."""
    with db.unit_of_work() as session:
        found = identity.token_lookup(session, secret, "session")
        if found is None:
            return None
        return found[1].csrf_token, found[0]


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None if the client went away."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the already-read body to the app, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _form_token(scope: Scope, body: bytes) -> str | None:
    request = Request(scope, _replay(body, _no_more))
    form = await request.form()
    try:
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    finally:
        await form.close()


async def _no_more() -> Message:
    return {"type": "http.disconnect"}


class CsrfMiddleware:
    """Refuse cookie-authenticated state changes that lack the right token (see module doc)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if request.headers.get("authorization", "").lower().startswith("bearer "):
            await self.app(scope, receive, send)  # API call with a token: not cookie-authenticated
            return
        expected: str | None = None
        principal: Principal | None = None
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            live = await anyio.to_thread.run_sync(_live_session, scope["app"].state.db, cookie)
            if live is not None:
                expected, principal = live
                request.state.csrf_token = expected  # for the refusal page's own forms
        if principal is None:
            if request.url.path.startswith(("/api/", "/open311/")):
                await self.app(scope, receive, send)  # anonymous API call (Open311: its api_key): nothing to forge
                return
            expected = _form_cookie_value(request)

        supplied = request.headers.get(CSRF_HEADER)
        content_type = request.headers.get("content-type", "")
        if supplied is None and content_type.startswith(_FORM_TYPES):
            body = await _read_body(receive)
            if body is None:
                return
            try:
                supplied = await _form_token(scope, body)
            except HTTPException as exc:  # the form parser refused it: over its limits, or malformed
                from tongban.webkit import limits, problems

                log.info("form refused", extra={"route": request.url.path, "reason": str(exc.detail)})
                if "maximum" in str(exc.detail).lower():  # Starlette's "Too many fields…"/"…exceeded maximum size…"
                    refusal = limits.too_large(scope, limits.form_limits_detail())
                else:
                    refusal = problems.problem(400, "bad-request", gettext(N_("Bad request")),
                                               instance=request.url.path)
                await refusal(scope, receive, send)
                return
            receive = _replay(body, receive)
        if tokens_match(expected, supplied):
            await self.app(scope, receive, send)
            return
        log.warning("csrf refused", extra={"method": scope["method"], "route": request.url.path,
                                           "reason": "missing" if not supplied else "mismatch"})
        response = _refusal(request, principal)
        await response(scope, receive, send)


def _refusal(request: Request, principal: Principal | None) -> Response:
    from tongban.webkit import problems, templating

    locale = templating.resolve_locale(request, principal)
    set_locale(locale)
    request.state.locale = locale
    title = gettext(CsrfRejected.title, locale)
    detail = gettext(REFUSAL_DETAIL, locale)
    if templating.wants_html(request):
        return templating.render_error(request, 403, title, detail, principal=principal)
    return problems.problem(403, CsrfRejected.type_, title, detail, instance=request.url.path)
