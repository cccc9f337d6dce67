"""`tongban bench services --quick` runs, so the benchmark cannot rot: SQLite always, and PostgreSQL
with the calibration app beside it when the suite runs on PostgreSQL (a scratch database next to
the test database)."""

from __future__ import annotations

import os
import re

import pytest
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


def test_a_missing_calibration_app_is_refused(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = cli("bench", "services", "--quick", "--pg-url", "postgresql://postgres@127.0.0.1:5432/x",
            "--calib", str(tmp_path / "nowhere"))
    assert r.exit_code == 2
    assert "calibration app is not at" in " ".join(r.output.split())


@pytest.mark.skipif(not os.environ.get("TONGBAN_TEST_DATABASE_URL", "").startswith("postgres"),
                    reason="the floor is measured on PostgreSQL only")
def test_a_missed_floor_exits_1(cli) -> None:  # type: ignore[no-untyped-def]
    url = os.environ["TONGBAN_TEST_DATABASE_URL"]
    u = make_url(url)
    pg = u.set(database=f"{u.database}_bench").render_as_string(hide_password=False)
    r = cli("bench", "services", "--quick", "--pg-url", pg, "--clients", "4", "--floor", "1000", "--enforce")
    assert r.exit_code == 1, r.output
    assert "MISSED" in r.output
