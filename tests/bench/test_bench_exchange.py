"""`tongban bench exchange --quick` runs, so the benchmark cannot rot."""

from __future__ import annotations


def test_bench_exchange_quick(cli):  # type: ignore[no-untyped-def]
    r = cli("bench", "exchange", "--quick", "--repeat", "1")
    assert r.exit_code == 0, r.output
    assert "target:" in r.output and "SQLite" in r.output and "ratio" in r.output
