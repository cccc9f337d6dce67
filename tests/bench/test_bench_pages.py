"""`tongban bench pages --quick` runs end to end (a live server and Debian's Chromium), so the
benchmark cannot rot. Like the browser tests it runs on the PostgreSQL leg (TONGBAN_BROWSER=1: on
the SQLite leg too) and needs chromium."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.live import ON_PG

pytestmark = pytest.mark.skipif(
    not (ON_PG or os.environ.get("TONGBAN_BROWSER") == "1")
    or not (os.environ.get("TONGBAN_CHROMIUM") or shutil.which("chromium")),
    reason="runs with the browser tests (PostgreSQL leg or TONGBAN_BROWSER=1) where chromium is installed")


def test_quick_pages_bench_prints_bytes_and_times_beside_the_baseline(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("bench", "pages", "--quick")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "tongban bench pages" in out and "usable" in out and "before" in out and "faster" in out
    assert "login" in out and "portal" in out and "dashboard" in out.replace("\n", "")


def test_bench_pages_rejects_an_unknown_baseline(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("bench", "pages", "--baseline", "nothing").exit_code == 2
    assert cli("bench", "pages", "--runs", "0").exit_code == 2
