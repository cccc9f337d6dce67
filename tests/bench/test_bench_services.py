"""`tongban bench services --quick` runs, so the benchmark cannot rot: SQLite always, and PostgreSQL
with the calibration app beside it when the suite runs on PostgreSQL (a scratch database next to
the test database)."""

from __future__ import annotations

import os
import re

from sqlalchemy.engine import make_url


def test_bench_services_quick(cli) -> None:  # type: ignore[no-untyped-def]
    url = os.environ.get("TONGBAN_TEST_DATABASE_URL", "")
    pg = ""
    if url.startswith("postgres"):
        u = make_url(url)
        pg = u.set(database=f"{u.database}_bench").render_as_string(hide_password=False)
    r = cli("bench", "services", "--quick", "--pg-url", pg, "--clients", "4")
    assert r.exit_code == 0, r.output
    output = " ".join(r.output.split())  # the table's title and caption wrap at the terminal's width
    assert "SQLite" in output and "submissions" in output and "decisions" in output
    assert "3 rounds of 1 s (medians)" in output
    assert re.search(r"SQLite rounds, tongban /s: \d+, \d+, \d+", output)
    assert "floor:" in output
    if pg:
        assert "PostgreSQL" in output and "×" in output
        assert re.search(r"PostgreSQL rounds, tongban/calibration /s: \d+/\d+, \d+/\d+, \d+/\d+; "
                         r"ratio \d\.\d\d–\d\.\d\d×", output)
        assert "the median of 3 rounds' ratios" in output
