"""Health, readiness and metrics."""

from __future__ import annotations

import pytest
from sqlalchemy import text


def test_healthz(client):  # type: ignore[no-untyped-def]
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_when_migrated(client, clock):  # type: ignore[no-untyped-def]
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "migrations": "ok", "calendar": "ok", "calendar_missing": []}


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


def test_request_id_is_echoed(client):  # type: ignore[no-untyped-def]
    r = client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert r.headers["x-request-id"] == "abc123"
    r = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces"


def test_unknown_path_is_problem_json(client):  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


METRICS_TOKEN = "scrape-token-0123456789"


@pytest.fixture()
def scraped(db, tmp_path):  # type: ignore[no-untyped-def]
    """An app with a metrics token configured."""
    from fastapi.testclient import TestClient

    from tongban.core.config import load_settings
    from tongban.web.app import create_app

    settings = load_settings(demo=True, database_url=db.url, var_dir=tmp_path / "var",
                             secret_key="test-secret-key-0123456789abcdef0123456789", audit_sealer="inline",
                             metrics_token=METRICS_TOKEN)
    with TestClient(create_app(settings=settings, db=db)) as c:
        yield c


def test_metrics_count_requests_by_route_for_the_scrape_token_only(scraped):  # type: ignore[no-untyped-def]
    scraped.get("/healthz")
    ok = scraped.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert ok.status_code == 200
    assert 'tongban_http_requests_total{method="GET",route="/healthz",status="200"}' in ok.text
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": f"Basic {METRICS_TOKEN}"}):
        refused = scraped.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["content-type"] == "application/problem+json"
        assert "tongban_http_requests_total" not in refused.text


def test_metrics_are_refused_while_no_token_is_set(client):  # type: ignore[no-untyped-def]
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401


def test_a_short_metrics_token_or_a_bad_public_url_is_refused_at_start() -> None:
    from pydantic import ValidationError

    from tongban.core.config import load_settings

    with pytest.raises(ValidationError, match="metrics_token"):
        load_settings(demo=True, secret_key="x" * 40, metrics_token="short")
    with pytest.raises(ValidationError, match="public_url"):
        load_settings(demo=True, secret_key="x" * 40, public_url="tongban.example.gov.cn")
    assert load_settings(demo=True, secret_key="x" * 40, public_url="https://t.example.cn/").public_url \
        == "https://t.example.cn"
