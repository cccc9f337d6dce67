"""`tongban bench screen --quick` runs end to end, so the benchmark cannot rot: every engine's
100 × 8 matrices are asserted equal to the harness's inside the command (exit 1 otherwise)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tongban_bench.locations import ANCHORS_ENV
from tongban_bench.screen import HARNESS_FILES, default_harness, openfisca_available


@pytest.fixture()
def harness() -> Path:
    """The harness where the bench looks for it ($TONGBAN_ANCHORS, else ../shared/anchors beside
    the checkout, as CI lays it out): missing, the tests fail rather than skip."""
    folder = default_harness()
    assert all((folder / f).is_file() for f in HARNESS_FILES), (
        f"the policy_bench harness is not at {folder}: put the anchors beside the checkout or set {ANCHORS_ENV}")
    return folder


def _row(out: str, label: str) -> list[str]:
    line = next(line for line in out.splitlines() if label in line and "│" in line)
    return [c.strip() for c in line.split("│") if c.strip()]


def test_quick_screen_bench_compares_all_engines_and_times_the_city(cli, tmp_path: Path, harness: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("bench", "screen", "--quick", "--cache", str(tmp_path / "cache"))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "2,000 households" in out
    labels = ["tongban Polars", "tongban DuckDB", "hand Polars (B)"]
    if openfisca_available():
        labels.append("OpenFisca (A')")
        assert "peak memory ÷ OpenFisca" in out and "throughput ÷ OpenFisca" in out
    else:
        assert "OPENFISCA IS NOT INSTALLED" in out
    for label in labels:
        cells = _row(out, label)
        assert float(cells[1].split()[0]) > 0  # median seconds
        assert cells[-1].endswith("×")
    assert _row(out, "hand Polars (B)")[-1] == "1.00×"
    assert "time ÷ hand-written Polars (B)" in out
    peaks = {label: float(_row(out, label)[4].split()[0].replace(",", "")) for label in labels}
    assert len(set(peaks.values())) > 1  # each child's own peak, not one inherited figure
    # the peaks as RESULTS.md measured them: three runs in one process, for the engines of the target
    table = out.split("Peak memory, 3 runs in one process (as RESULTS.md)")[1]
    for label in [la for la in labels if la != "tongban DuckDB"]:
        cells = _row(table, label)
        peak, idle = (float(x.strip("()").replace(",", "")) for x in cells[1].split())
        one_run_idle = float(_row(out, label)[4].split()[1].strip("()").replace(",", ""))
        assert peak > idle and peak > one_run_idle  # the process ran the engine, not just imported it
        assert len(cells[-1].split()) == 3  # three runs' seconds
    assert "tongban DuckDB" not in table.split("Persons per rule")[0]
    if openfisca_available():
        assert _row(table, "OpenFisca (A')")[2] == "1.00×"
        assert "peak memory ÷ OpenFisca, one run per fresh process:" in out
        assert "peak memory ÷ OpenFisca, 3 runs in one process (as RESULTS.md):" in out
    # the asserted totals: R1 dibao is counted in persons and some are not enrolled
    dibao = _row(out, "R1 dibao")
    assert int(dibao[1].replace(",", "")) >= int(dibao[2].replace(",", "")) > 0
    # the city part: ten demo policies over 100,000 persons
    assert _row(out, "tekun")[2] == "100,000"  # a person policy: every person is a subject
    assert _row(out, "elderly_allowance")[1] == "person"
    assert int(_row(out, "dibao")[2].replace(",", "")) < 100_000  # a household policy: households
    assert "policies over 100,000 persons" in out
    city = _row(out, "compile_polars")  # plan, median s, min–max s, persons/s, peak GiB
    assert float(city[1]) > 0 and float(city[4]) > 0
    assert "target: under 15 s and 4 GiB" in out
    flat = " ".join(out.split())  # lines wrap at the terminal's width
    assert "not enforced" in flat or "targets missed" not in flat  # --quick: shown, not enforced


def test_a_missed_target_fails_the_bench(cli, tmp_path: Path, harness: Path) -> None:  # type: ignore[no-untyped-def]
    """Enforced, the targets fail a quick run: at 2,000 households every engine's peak memory is
    mostly the interpreter's, so ours cannot be half of OpenFisca's."""
    if not openfisca_available():
        pytest.fail("OpenFisca is a dev dependency (of tongban-benchmarks): `make setup` installs it")
    result = cli("bench", "screen", "--quick", "--runs", "1", "--city-persons", "0", "--enforce",
                 "--cache", str(tmp_path / "cache"))
    assert result.exit_code == 1, result.output
    assert "targets missed:" in result.output and "memory_vs_openfisca" in result.output


def test_a_wrong_answer_fails_the_bench(cli, tmp_path: Path, harness: Path) -> None:  # type: ignore[no-untyped-def]
    """A harness whose R3 says 81 instead of 80 no longer agrees with our pack: exit 1, named."""
    copy = tmp_path / "harness"
    shutil.copytree(harness, copy)
    policy = copy / "policy.py"
    policy.chmod(0o644)
    text = policy.read_text(encoding="utf-8")
    assert '"elderly_min_age": 80' in text
    policy.write_text(text.replace('"elderly_min_age": 80', '"elderly_min_age": 81'), encoding="utf-8")
    result = cli("bench", "screen", "--quick", "--runs", "1", "--city-persons", "0", "--harness", str(copy),
                 "--cache", str(tmp_path / "cache"))
    assert result.exit_code == 1, result.output
    assert "matrix differs from the harness's" in result.output and "rule R3" in result.output


def test_missing_harness_is_refused(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cache = tmp_path / "cache"
    result = cli("bench", "screen", "--quick", "--harness", str(tmp_path / "nowhere"), "--cache", str(cache))
    assert result.exit_code == 2
    assert "policy_bench harness is not at" in result.output
    assert not cache.exists()  # nothing generated


def test_bad_sizes_are_refused(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("bench", "screen", "--households", "0").exit_code == 2
    assert cli("bench", "screen", "--runs", "0").exit_code == 2
