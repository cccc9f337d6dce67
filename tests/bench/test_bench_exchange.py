"""`tongban bench exchange`: it runs, both ways must return the rows asked for, and a missed
target exits 1."""

from __future__ import annotations

import pytest


def test_bench_exchange_quick(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("bench", "exchange", "--quick", "--repeat", "1")
    assert r.exit_code == 0, r.output
    assert "target:" in r.output and "SQLite" in r.output and "ratio" in r.output
    assert "both ways returned the rows asked for" in " ".join(r.output.split())  # the line wraps


def test_a_missed_exchange_target_exits_1(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("bench", "exchange", "--quick", "--repeat", "1", "--enforce", "--target", "0.5")
    assert r.exit_code == 1, r.output
    assert "MISSED" in r.output


def test_differing_row_counts_fail_the_bench(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from tongban_bench import exchange

    real = exchange._through_exchange
    monkeypatch.setattr(exchange, "_through_exchange", lambda db, principal, rows: real(db, principal, rows) - 1)
    r = cli("bench", "exchange", "--quick", "--repeat", "1")
    assert r.exit_code == 1, r.output
    assert "the two ways read different rows" in r.output and "100 rows asked" in r.output
