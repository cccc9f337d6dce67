"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from tongban.core import migrate

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, response: Response) -> dict[str, object]:
    """Ready when the database answers and its schema is at the newest migration."""
    db = request.app.state.db
    checks: dict[str, object] = {}
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        checks["migrations"] = "ok" if migrate.at_head(db) else "behind"
    except Exception:
        checks["database"] = "unreachable"
    ok = checks.get("database") == "ok" and checks.get("migrations") == "ok"
    response.status_code = 200 if ok else 503
    return {"status": "ok" if ok else "not-ready", "checks": checks}


@router.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
