"""The benchmarks find their anchors from an option, the environment, or beside the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from tongban_bench import locations

CHECKOUT = Path(__file__).resolve().parents[2]


def test_the_option_beats_the_environment_which_beats_the_checkout(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    monkeypatch.delenv(locations.ANCHORS_ENV, raising=False)
    assert locations.anchors_dir() == CHECKOUT.parent / "shared" / "anchors"
    monkeypatch.setenv(locations.ANCHORS_ENV, str(tmp_path / "env"))
    assert locations.anchors_dir() == tmp_path / "env"
    assert locations.anchors_dir(tmp_path / "option") == tmp_path / "option"


def test_the_checkout_and_its_demo_pack_are_found_at_run_time() -> None:
    assert locations.repo_root() == CHECKOUT
    assert (locations.demo_pack() / "pack.yaml").is_file()


def test_the_screen_bench_looks_for_the_harness_in_the_anchors(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    from tongban_bench.screen import default_harness

    monkeypatch.setenv(locations.ANCHORS_ENV, str(tmp_path))
    assert default_harness() == tmp_path / "policy_bench"
