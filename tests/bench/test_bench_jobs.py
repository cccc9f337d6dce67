"""`tongban bench jobs` runs end to end, so the benchmark cannot rot."""

from __future__ import annotations

import os


def test_quick_jobs_bench_prints_rates(cli) -> None:  # type: ignore[no-untyped-def]
    args = ["bench", "jobs", "--jobs", "50", "--concurrency", "2"]
    url = os.environ.get("TONGBAN_TEST_DATABASE_URL", "")
    if url.startswith("postgres"):
        args += ["--pg-url", url]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "│" in line and ("SQLite" in line or "PostgreSQL" in line)]
    assert len(rows) == (3 if url.startswith("postgres") else 1)
    for row in rows:
        cells = [c.strip() for c in row.split("│") if c.strip()]
        assert cells[2] == "50" and float(cells[4].replace(",", "")) > 0


def test_bench_jobs_rejects_bad_input(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("bench", "jobs", "--jobs", "0").exit_code == 2
    assert cli("bench", "jobs", "--pg-url", "mysql://x/y").exit_code == 2
