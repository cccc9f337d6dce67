"""`tongban bench load` runs, so the benchmark cannot rot: a short mixed load on SQLite, and on the
PostgreSQL leg on PostgreSQL with the calibration app beside it (scratch databases next to the
test database)."""

from __future__ import annotations

import os
import re

from sqlalchemy.engine import make_url


def _scratch(suffix: str) -> str:
    url = os.environ.get("TONGBAN_TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        return ""
    u = make_url(url)
    return u.set(database=f"{u.database}{suffix}").render_as_string(hide_password=False)


def test_bench_load_quick(cli) -> None:  # type: ignore[no-untyped-def]
    pg = _scratch("_load")
    r = cli("bench", "load", "--database", pg or "sqlite", "--seconds", "2", "--clients", "3", "--persons", "500",
            "--mix", "submit=2,consent=1,form=1,portal=4", "--calib-pg-url", _scratch("_load_calib"))
    assert r.exit_code == 0, r.output
    output = " ".join(r.output.split())
    assert ("PostgreSQL" if pg else "SQLite") in output
    for op in ("submit", "consent", "form", "portal"):
        row = re.search(rf"│\s*{op} │\s*([\d,]+) │\s*[\d.,]+ │\s*([\d.,]+) │\s*([\d.,]+) │\s*(\d+) │", r.output)
        assert row, (op, r.output)
        assert int(row.group(1).replace(",", "")) > 0 and row.group(4) == "0", (op, r.output)
    assert "calibration app: submissions" in output
    calib = re.search(r"calibration app: submissions │\s*│\s*([\d.,—]+) │", r.output)
    assert calib, r.output
    if pg:
        assert float(calib.group(1).replace(",", "")) > 0, r.output
    else:
        assert calib.group(1) == "—" and "not measured" in output


def test_a_bad_mix_is_refused(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("bench", "load", "--mix", "submit=2,dance=1", "--calib-pg-url", "")
    assert r.exit_code == 2
    assert "dance=1" in r.output and "OPERATION=WEIGHT" in " ".join(r.output.split())
