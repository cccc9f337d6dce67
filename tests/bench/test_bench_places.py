"""`tongban bench places --quick` runs end to end, so the benchmark cannot rot."""

from __future__ import annotations


def test_quick_places_bench_prints_ours_beside_the_brute_force(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("bench", "places", "--quick", "--no-sizes")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "5,000 places" in out and "(ours)" in out and "brute-force scan" in out
    assert "queries/s" in out and "p99 ms" in out
    assert "answers equal" in out


def test_bench_places_rejects_bad_sizes(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("bench", "places", "--places", "0").exit_code == 2
    assert cli("bench", "places", "--queries", "10", "--brute-queries", "20").exit_code == 2
