"""`tongban bench booking` runs, so the benchmark cannot rot: a short race on SQLite, and on the
PostgreSQL leg on PostgreSQL with the calibration app beside it (scratch databases next to the
test database); no slot overbooked, no error."""

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


def _row(output: str, label: str) -> str:
    found = re.search(rf"{re.escape(label)} │\s*([\d.,—]+) │", output)
    assert found, (label, output)
    return found.group(1)


def test_bench_booking_quick(cli) -> None:  # type: ignore[no-untyped-def]
    pg = _scratch("_booking")
    r = cli("bench", "booking", "--database", pg or "sqlite", "--seconds", "2", "--clients", "6", "--capacity", "2",
            "--calib-pg-url", _scratch("_booking_calib"))
    assert r.exit_code == 0, r.output
    assert ("PostgreSQL" if pg else "SQLite") in " ".join(r.output.split())
    assert _row(r.output, "overbooked slots") == "0" and _row(r.output, "errors") == "0"
    made = int(_row(r.output, "bookings made").replace(",", ""))
    full = int(_row(r.output, "refused: slot full").replace(",", ""))
    assert made > 0 and full > 0  # a race: places taken and places refused
    calib = _row(r.output, "calibration app: submissions per s")
    if pg:
        assert float(calib.replace(",", "")) > 0 and _row(r.output, "ratio: bookings per s ÷ calibration") != "—"
    else:
        assert calib == "—"


def test_a_capacity_not_below_the_clients_is_refused(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("bench", "booking", "--clients", "3", "--capacity", "3", "--calib-pg-url", "")
    assert r.exit_code == 2 and "--capacity" in r.output
