"""`tongban bench registry --quick` runs end to end, so the benchmark cannot rot."""

from __future__ import annotations

import os
import sys

import pytest


def test_quick_registry_bench_prints_rates_and_the_faker_comparison(cli) -> None:  # type: ignore[no-untyped-def]
    args = ["bench", "registry", "--quick"]
    url = os.environ.get("TONGBAN_TEST_DATABASE_URL", "")
    if url.startswith("postgres"):
        args += ["--pg-url", url]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "5,000" in out and "Parquet MiB" in out and "SQLite /s" in out
    assert "Faker zh_CN" in out and "100%" in out
    faker = next(line for line in out.splitlines() if "Faker zh_CN" in line and "│" in line)
    assert "measured" in faker and float(faker.split("│")[2].strip().replace(",", "")) > 0  # measured now  # every generated ID number passes stdnum
    row = next(line for line in out.splitlines() if "5,000" in line and "│" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert float(cells[2].replace(",", "")) > 0  # generation rate
    assert cells[5] != "—"  # SQLite load was measured
    if url.startswith("postgres"):
        assert cells[6] != "—"


def test_bench_registry_rejects_bad_sizes(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("bench", "registry", "--persons", "abc").exit_code == 2
    assert cli("bench", "registry", "--persons", "0").exit_code == 2


def test_without_faker_no_figure_is_printed_for_it(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "faker", None)  # `import faker` now fails as if it were not installed
    result = cli("bench", "registry", "--quick")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "Faker zh_CN" in line and "│" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert cells[1:3] == ["—", "—"] and "not measured" in row
