"""`tongban bench codes`: both rates from one run, every code stored, the time for a million
printed, and a missed target exits 1."""

from __future__ import annotations


def test_quick_codes_bench_prints_both_rates_and_the_million(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("bench", "codes", "--quick", "--count", "600", "--processes", "2", "--target", "0")
    assert r.exit_code == 0, r.output
    assert "bare Ed25519" in r.output and "time for 1,000,000" in r.output
    assert "600 codes on 2 processes" in r.output and "(met)" in r.output


def test_a_missed_codes_target_exits_1(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("bench", "codes", "--quick", "--count", "300", "--processes", "1", "--target", "1000", "--enforce")
    assert r.exit_code == 1, r.output
    assert "MISSED" in r.output


def test_the_bare_rate_signs_every_payload() -> None:
    from tongban_bench import codes

    assert codes.bare_rate(250, 1, 100) > 0
    assert codes._bare_sign((0, 7)) == 7  # the key from the call above, in this process
