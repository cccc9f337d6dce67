"""`tongban bench services --quick` runs, so the benchmark cannot rot: SQLite always, and PostgreSQL
with the calibration app beside it when the suite runs on PostgreSQL (a scratch database next to
the test database)."""

from __future__ import annotations

import os

from sqlalchemy.engine import make_url


def test_bench_services_quick(cli) -> None:  # type: ignore[no-untyped-def]
    url = os.environ.get("TONGBAN_TEST_DATABASE_URL", "")
    pg = ""
    if url.startswith("postgres"):
        u = make_url(url)
        pg = u.set(database=f"{u.database}_bench").render_as_string(hide_password=False)
    r = cli("bench", "services", "--quick", "--pg-url", pg, "--clients", "4")
    assert r.exit_code == 0, r.output
    assert "SQLite" in r.output and "submissions" in r.output and "decisions" in r.output
    assert "floor:" in r.output
    if pg:
        assert "PostgreSQL" in r.output and "×" in r.output
