"""RFC 9457 problem+json for every error, with a stable type, the field at fault and a
message in the caller's language."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tongban.core import text
from tongban.core.access import Denied
from tongban.core.errors import PROBLEM_BASE, TongbanError
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
    **text.VALIDATION_MESSAGES,
}


def install(app: FastAPI) -> None:
    @app.exception_handler(TongbanError)
    async def _tongban_error(request: Request, exc: TongbanError) -> Response:
        if isinstance(exc, Denied):
            _record_denial(request, exc)
        message = gettext(exc.message)
        if exc.params:
            message = message % exc.params
        return problem(exc.status, exc.type_, gettext(exc.title), message, instance=request.url.path,
                       field=exc.field)

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
        return problem(exc.status_code, type_, title, instance=request.url.path, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Scrubbed before logging: a driver's message may carry the statement's values (an ID number).
        log.error("unhandled error", extra={"path": request.url.path, "error": scrubbed_traceback(exc)})
        return problem(500, "internal", gettext("Something went wrong on our side"),
                       instance=request.url.path)


def _record_denial(request: Request, exc: Denied) -> None:
    """A refusal is audited in its own transaction: the request's own one is rolled back."""
    from tongban.core.audit.log import record

    db = request.app.state.db
    p = exc.principal
    try:
        with db.unit_of_work() as session:
            record(session, actor=p.actor, actor_department=p.department_id, action="access.denied",
                   outcome="denied", details={"needed": exc.action, "path": request.url.path,
                                              "method": request.method})
    except Exception:  # the refusal stands even if auditing it fails; the failure is logged
        log.exception("could not audit a denial")
