"""Health, readiness and metrics."""

from __future__ import annotations

from sqlalchemy import text


def test_healthz(client):  # type: ignore[no-untyped-def]
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_when_migrated(client):  # type: ignore[no-untyped-def]
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "migrations": "ok"}


def test_readyz_reports_a_schema_behind(db, client):  # type: ignore[no-untyped-def]
    with db.engine.begin() as conn:
        old = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0001')"))
    try:
        r = client.get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"]["migrations"] == "behind"
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
            for v in old:
                conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": v})


def test_metrics_count_requests_by_route_not_by_path(client):  # type: ignore[no-untyped-def]
    client.get("/healthz")
    body = client.get("/metrics").text
    assert 'tongban_http_requests_total{method="GET",route="/healthz",status="200"}' in body


def test_request_id_is_echoed(client):  # type: ignore[no-untyped-def]
    r = client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert r.headers["x-request-id"] == "abc123"
    r = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces"


def test_unknown_path_is_problem_json(client):  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
