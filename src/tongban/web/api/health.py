"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from tongban.core import clock, migrate, workdays
from tongban.core.errors import NotAuthenticated
from tongban.core.i18n import N_

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, response: Response) -> dict[str, object]:
    """Ready when the database answers and its schema is at the newest migration. `calendar` is
    `degraded` (still ready) while a year that due dates set today can fall in has no working-day
    schedule: they are counted Monday–Friday until it is loaded (`calendar_missing` lists them)."""
    db = request.app.state.db
    checks: dict[str, object] = {}
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        checks["migrations"] = "ok" if migrate.at_head(db) else "behind"
        if checks["migrations"] == "ok":
            with db.unit_of_work() as session:
                missing = workdays.missing_years(workdays.calendar(session), clock.today())
            checks["calendar"] = "degraded" if missing else "ok"
            checks["calendar_missing"] = missing
    except Exception:
        checks["database"] = "unreachable"
    ok = checks.get("database") == "ok" and checks.get("migrations") == "ok"
    response.status_code = 200 if ok else 503
    return {"status": "ok" if ok else "not-ready", "checks": checks}


@router.get("/metrics", responses={
    200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus metrics"},
    401: {"description": "No or a wrong scrape token",
          "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}})
def metrics(request: Request) -> Response:
    """Prometheus metrics, for a scraper sending `Authorization: Bearer <TONGBAN_METRICS_TOKEN>`;
    refused (401) without the token, and to everyone while no token is configured."""
    token = request.app.state.settings.metrics_token
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), token.encode()):
        raise MetricsRefused(N_("Metrics need the scrape token (TONGBAN_METRICS_TOKEN)"))
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


class MetricsRefused(NotAuthenticated):
    type_ = "metrics-token"
