"""`tongban bench audit`: our side's rate includes the final seal, and a missed target exits 1."""

from __future__ import annotations

import time

import pytest

from tongban.core.audit import chain


def test_quick_audit_bench_runs_and_the_chain_holds(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("bench", "audit", "--quick")
    assert r.exit_code == 0, r.output
    assert "chain valid after run" in r.output and "target: none on SQLite" in r.output


def test_a_missed_audit_target_exits_1(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("bench", "audit", "--quick", "--target", "1000")
    assert r.exit_code == 1, r.output
    assert "MISSED" in r.output


def test_our_rate_is_timed_through_the_final_seal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A final seal that takes a second must show in our rate: 100 submissions cannot then run
    at more than 100 a second. With the timer stopped before the seal they ran at hundreds."""
    import tempfile
    from pathlib import Path

    from tongban_bench import audit

    real_flush = chain.flush

    def slow_flush(engine, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
        time.sleep(1.0)
        real_flush(engine, timeout)

    monkeypatch.setattr(chain, "flush", slow_flush)
    r = audit.measure(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}", threads=2, events=100)
    assert r["chain_ok"] == 1.0
    assert r["ours"] < 100
