"""Where the benchmarks find what they compare against and what they run on: only from an
option, the environment, or the checkout they run from — never a path of one machine.

The anchors (the policy_bench harness, the api_calib calibration app) live in `../shared/anchors`
beside the clone (as CI lays them out); `TONGBAN_ANCHORS` points elsewhere, and each command's
option beats both.
"""

from __future__ import annotations

import os
from pathlib import Path

ANCHORS_ENV = "TONGBAN_ANCHORS"


def repo_root() -> Path:
    """The tongban checkout: the nearest folder above this package (an editable install) or
    above the working directory that holds `packs/demo` and a `pyproject.toml`."""
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for folder in (start, *start.parents):
            if (folder / "pyproject.toml").is_file() and (folder / "packs" / "demo").is_dir():
                return folder
    raise FileNotFoundError("not inside a tongban checkout (no pyproject.toml beside packs/demo above "
                            f"{Path(__file__).resolve().parent} or {Path.cwd()})")


def anchors_dir(option: Path | None = None) -> Path:
    """The anchors folder: the option, else $TONGBAN_ANCHORS, else `../shared/anchors` beside
    the checkout."""
    if option is not None:
        return option
    if os.environ.get(ANCHORS_ENV):
        return Path(os.environ[ANCHORS_ENV])
    return repo_root().parent / "shared" / "anchors"


def demo_pack() -> Path:
    """The demo pack of the checkout."""
    return repo_root() / "packs" / "demo"
