"""`tongban bench quality --quick` runs end to end, so the benchmark cannot rot."""

from __future__ import annotations


def test_quick_quality_bench_prints_both_ways_and_they_agree(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("bench", "quality", "--quick")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "3,000 persons" in out and "row-local, row by row" in out and "row-local, set-wise SQL" in out
    assert "both ways found the same failing rows" in out


def test_bench_quality_rejects_bad_sizes(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("bench", "quality", "--persons", "0").exit_code == 2
