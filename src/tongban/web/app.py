"""The FastAPI app factory."""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from prometheus_client import Counter, Histogram

import tongban
from tongban.core.config import Settings, get_settings
from tongban.core.db import Database, get_database
from tongban.core.i18n import negotiate, set_locale
from tongban.core.logging import request_id_var
from tongban.webkit import problems

log = logging.getLogger("tongban.web")

GZIP_MINIMUM_BYTES = 500
PRECOMPRESSED_TYPES = (
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
REQUESTS = Counter("tongban_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("tongban_http_request_seconds", "HTTP request latency", ["method", "route"])


class RequestContext:
    """Pure ASGI middleware: request id, locale from Accept-Language, metrics, one access log line."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        rid = headers.get("x-request-id") or uuid.uuid4().hex
        if not rid.isalnum() or len(rid) > 64:
            rid = uuid.uuid4().hex
        request_id_var.set(rid)
        set_locale(negotiate(headers.get("accept-language")))
        started = time.perf_counter()
        status = {"code": 500}

        async def _send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            REQUESTS.labels(scope["method"], path, str(status["code"])).inc()
            LATENCY.labels(scope["method"], path).observe(elapsed)
            log.info("request", extra={"method": scope["method"], "route": path,
                                       "status": status["code"], "ms": round(elapsed * 1000, 1)})


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = db or get_database()
    app = FastAPI(
        telemetry=_fastapi_telemetry(),
        title="tongban 通办",
        version=tongban.__version__,
        description="One front door for residents, one workbench for departments, one data hub beneath.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served below from /static, under the Content-Security-Policy
        redoc_url=None,
    )
    _install_api_docs(app)
    _document_problems(app)
    app.state.settings = settings
    app.state.db = db
    from tongban.core.audit.chain import configure_checkpoints, set_seal_mode

    configure_checkpoints(settings)
    set_seal_mode(settings.audit_sealer)
    from tongban.core import masking

    masking.configure(settings.secret_key)
    problems.install(app)
    from tongban.core.throttle import Throttle

    # One per app: memory:// counts for this process; redis:// is shared by every process.
    app.state.throttle = Throttle(settings.rate_limit_storage, anonymous=settings.anonymous_rate_limit)

    from tongban.core import slices
    from tongban.web import pages
    from tongban.web.api import admin, audit, auth, health, keys

    # The app's own routes, then every slice's (its declaration, core.slices), lower slices first.
    from tongban.webkit.schemas import PROBLEM_RESPONSES

    app.include_router(health.router)
    from fastapi import Depends

    from tongban.webkit.deps import writes_need_login

    # Every API operation documents the problems it can answer (issue #18 item 8); every write needs
    # a signed-in caller before its body is validated (item 5) — but signing in itself.
    app.include_router(auth.router, prefix="/api/v1", responses=PROBLEM_RESPONSES)
    for router in (admin.router, audit.router, keys.router, *slices.routers("api")):
        app.include_router(router, prefix="/api/v1", responses=PROBLEM_RESPONSES,
                           dependencies=[Depends(writes_need_login)])
    pages.install(app)
    for router in slices.routers("pages"):
        app.include_router(router)
    from tongban.webkit.boundary import TextBoundary
    from tongban.webkit.headers import SecurityHeaders

    app.add_middleware(TextBoundary)  # inside RequestContext (locale set), before CSRF reads a form
    from tongban.webkit.limits import BodyLimit

    # Size limits first (after RequestContext sets the locale), before anything reads a body.
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    # Text answers (pages, JSON, scripts, styles) go compressed to a browser that accepts gzip; files
    # that are compressed already do not. Pages embed their CSRF token masked afresh (webkit.csrf).
    from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=6,
                       exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, *PRECOMPRESSED_TYPES))
    app.add_middleware(RequestContext)
    return app


API_DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} · API</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui.css">
<script src="/static/vendor/swagger-ui-bundle.js" defer></script>
<script src="/static/js/api-docs.js" defer></script>
</head>
<body><div id="swagger-ui" data-openapi-url="{openapi_url}"></div></body>
</html>
"""


def _document_problems(app: FastAPI) -> None:
    from tongban.webkit.schemas import (
        add_problem_schema,
        add_text_patterns,
        document_cursor_refusals,
        fix_integer_bounds,
    )

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_cursor_refusals(
                fix_integer_bounds(add_text_patterns(add_problem_schema(build()))))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _install_api_docs(app: FastAPI) -> None:
    """Swagger UI from the package's own /static (npm's swagger-ui-dist, copied by
    scripts/build_assets.py), not a public CDN that an offline government network cannot reach;
    started from a file, not FastAPI's inline script, which the Content-Security-Policy refuses."""
    from html import escape

    from fastapi.responses import HTMLResponse

    html = API_DOCS_HTML.format(title=escape(app.title), openapi_url=escape(app.openapi_url or ""))

    @app.get("/api/v1/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(html)


def _fastapi_telemetry() -> TelemetryConfig | None:
    """FastAPI's native OpenTelemetry, only where OpenTelemetry is configured (OTEL_* variables):
    tongban has its own metrics and logs, and the hook's check of the unconfigured providers on
    every request cost about 6 % of a submission's CPU."""
    if any(name.startswith("OTEL_") for name in os.environ) or os.environ.get("FASTAPI_OTEL_AUTO_CONFIGURE"):
        return None
    return {"tracing": False, "metrics": False, "logs": False}
