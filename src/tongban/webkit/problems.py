"""RFC 9457 problem+json for every error, with a stable type, the field at fault and a
message in the caller's language."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tongban.core import text
from tongban.core.access import Denied, NotYours
from tongban.core.errors import PROBLEM_BASE, NotAuthenticated, TongbanError
from tongban.core.i18n import N_, gettext
from tongban.core.logging import scrubbed_traceback

log = logging.getLogger("tongban.web")
MEDIA = "application/problem+json"


def problem(
    status: int, type_: str, title: str, detail: str | None = None, *, instance: str | None = None,
    field: str | None = None, errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if field:
        body["field"] = field
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=MEDIA, headers=headers)


def _loc_to_field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[-1] if loc else "")


VALIDATION_MESSAGES = {
    "missing": N_("This field is required"),
    "string_too_short": N_("This value is too short"),
    "string_too_long": N_("This value is too long"),
    "int_parsing": N_("Enter a whole number"),
    "json_invalid": N_("The request body is not valid JSON"),
    "greater_than_equal": N_("The value is too small"),
    "less_than_equal": N_("The value is too large"),
    # An enum in the schema (issue #18 item 8): the caller's language, not pydantic's English.
    "literal_error": N_("Unknown value: use one of those the API document lists"),
    "too_long": N_("Too many items"),
    **text.VALIDATION_MESSAGES,
}


def install(app: FastAPI) -> None:
    @app.exception_handler(TongbanError)
    async def _tongban_error(request: Request, exc: TongbanError) -> Response:
        if isinstance(exc, Denied) and exc.principal.kind == "anonymous":
            # Nobody signed in: the answer is "log in", never a refusal (nor an audit row any
            # stranger could write by the thousand).
            exc = NotAuthenticated()
        if isinstance(exc, NotAuthenticated):
            exc = await _throttle_anonymous(request, exc)
        elif isinstance(exc, (Denied, NotYours)):
            # A database write: never on the event loop (under SQLite it may wait for the write
            # lock, and every other request, /healthz too, would wait with it).
            await run_in_threadpool(_record_denial, request.app.state.db, exc, path=request.url.path,
                                    method=request.method)
        message = exc.translated()
        response = problem(exc.status, exc.type_, gettext(exc.title), message, instance=request.url.path,
                           field=exc.field)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:  # a throttled caller is told how long to wait (RFC 9110)
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for err in exc.errors():
            msg_id = VALIDATION_MESSAGES.get(err.get("type", ""))
            errors.append({
                "field": _loc_to_field(err.get("loc", ())),
                "message": gettext(msg_id) if msg_id else err.get("msg", ""),
                "code": err.get("type"),
            })
        first = errors[0] if errors else {"field": None, "message": ""}
        return problem(422, "invalid", gettext("The request is not valid"), first["message"],
                       instance=request.url.path, field=first["field"], errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: N_("Not found"), 405: N_("Method not allowed"), 401: N_("Please log in"),
                  413: N_("The request is too large")}
        title = gettext(titles.get(exc.status_code, N_("Bad request")))
        # Every type is one docs/api-conventions.md lists; the exception's headers (405: Allow) go along.
        type_ = {401: "not-authenticated", 404: "not-found", 405: "method-not-allowed",
                 413: "too-large"}.get(exc.status_code, "bad-request")
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        return problem(exc.status_code, type_, title, instance=request.url.path, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Scrubbed before logging: a driver's message may carry the statement's values (an ID number).
        log.error("unhandled error", extra={"path": request.url.path, "error": scrubbed_traceback(exc)})
        # Starlette answers this from its outermost middleware, outside SecurityHeaders: set them here.
        from tongban.webkit.headers import SECURITY_HEADERS

        return problem(500, "internal", gettext("Something went wrong on our side"),
                       instance=request.url.path,
                       headers={k.decode("latin-1"): v.decode("latin-1") for k, v in SECURITY_HEADERS})


async def _throttle_anonymous(request: Request, exc: NotAuthenticated) -> TongbanError:
    """A source refused 401 too often is answered 429 with `Retry-After` (core.throttle)."""
    from tongban.core.throttle import RateLimited, Throttle

    guard: Throttle | None = getattr(request.app.state, "throttle", None)
    if guard is None:
        return exc
    source = request.client.host if request.client else "unknown"
    try:
        if guard.uri.startswith("memory://"):
            guard.refused_anonymous(source=source)  # in this process's memory: no I/O
        else:  # a network round trip: not on the event loop
            await run_in_threadpool(guard.refused_anonymous, source=source)
    except RateLimited as limited:
        return limited
    return exc


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path. Starlette's 405 names only the methods of the
    first route whose path matched, and a path served by two routes (GET and POST) is common; so
    each method is tried against the app's routes (included routers answer for theirs)."""
    from starlette.routing import Match

    routes = request.app.router.routes
    allowed = [m for m in _METHODS
               if any(route.matches({**request.scope, "method": m})[0] is Match.FULL for route in routes)]
    return ", ".join(allowed)


DENIAL_ATTEMPTS = 3  # each waits up to the database's lock timeout (SQLite: busy_timeout)
_pending: deque[tuple[Any, dict[str, Any]]] = deque(maxlen=10_000)
_pending_lock = threading.Lock()


def _record_denial(db: Any, exc: Denied | NotYours, *, path: str, method: str) -> None:
    """A refusal is audited in its own transaction: the request's own one is rolled back.
    Repeated ones are coalesced per actor, action and minute (`tongban.core.audit.denials`).

    Runs in a worker thread. A write that cannot get the lock is retried; one that still fails is
    kept in memory and written before the next refusal's, so a busy database delays the record
    instead of losing it (a process that stops first loses them: that is logged)."""
    from tongban.core.timeutil import utcnow

    p = exc.principal
    event = {"actor": p.actor, "actor_department": p.department_id, "needed": exc.action, "at": utcnow(),
             "details": {"path": path, "method": method, "status": exc.status}}
    with _pending_lock:
        _pending.append((db, event))
    flush_denials()


def flush_denials() -> int:
    """Write every refusal still waiting; return how many are left (0 when all are in)."""
    from tongban.core.audit.denials import record_refusal

    with _pending_lock:
        for _ in range(len(_pending)):
            db, event = _pending[0]
            for attempt in range(DENIAL_ATTEMPTS):
                try:
                    with db.unit_of_work() as session:
                        record_refusal(session, actor=event["actor"], actor_department=event["actor_department"],
                                       needed=event["needed"], details=event["details"], now=event["at"])
                    break
                except Exception:  # locked, away, or a concurrent first refusal: try again, then keep it
                    if attempt == DENIAL_ATTEMPTS - 1:
                        log.exception("could not audit a denial yet; it is kept and retried",
                                      extra={"waiting": len(_pending)})
                        return len(_pending)
            _pending.popleft()
        return 0
