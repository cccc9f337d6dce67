"""`tongban bench history-parts --quick` runs end to end, so the benchmark cannot rot; a limit
the parts cannot meet exits 1."""

from __future__ import annotations


def test_quick_history_bench_times_every_part(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("bench", "history-parts", "--quick")
    assert r.exit_code == 0, r.output
    for part in ("services.applications", "cases.hotline", "codes.issued", "all parts"):
        assert part in r.output
    assert "2,000 persons × 10 days" in r.output and "(met)" in r.output


def test_a_missed_history_limit_exits_1(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("bench", "history-parts", "--quick", "--persons", "300", "--days", "2", "--limit", "0")
    assert r.exit_code == 1, r.output
    assert "MISSED" in r.output
