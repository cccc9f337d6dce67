"""The import contracts (.importlinter, run by `make lint`) hold for the tree, and refuse an upward
import: a copy of the package with one added import fails them, naming it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".importlinter"
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(src: Path) -> subprocess.CompletedProcess[str]:
    """import-linter over the package found first under `src` (PYTHONPATH precedes the install)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(LINT), "--no-cache", str(CONFIG)], capture_output=True, text=True, env=env,
                          cwd=src)


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("layers") / "src"
    shutil.copytree(ROOT / "src" / "tongban", src / "tongban",
                    ignore=shutil.ignore_patterns("static", "templates", "locale", "__pycache__", "*.pyc"))
    return src


def _with(copy: Path, module: str, line: str) -> Path:
    """The copy, with `line` added to `module` (undone after the check)."""
    path = copy.joinpath(*module.split(".")).with_suffix(".py")
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    return path


def test_the_tree_keeps_every_contract() -> None:
    result = _lint(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line", "named"), [
    # a slice importing the app (the breach #16 found 29 times)
    ("tongban.registry.api", "import tongban.web.pages  # noqa", "tongban.registry.api -> tongban.web.pages"),
    # a lower slice importing a higher one
    ("tongban.datahub.catalog", "import tongban.governance.quality  # noqa",
     "tongban.datahub.catalog -> tongban.governance.quality"),
    # core importing a slice
    ("tongban.core.blobs", "import tongban.models  # noqa", "tongban.core.blobs -> tongban.models"),
    # the request kit importing a slice
    ("tongban.webkit.deps", "import tongban.services.notify  # noqa", "tongban.webkit.deps -> tongban.services.notify"),
        # messages sits below services: it is called by them and never calls up.
        ("tongban.messages.outbox", "import tongban.services.notify  # noqa",
         "tongban.messages.outbox -> tongban.services.notify"),
    # a scenario reading the registry's tables
    ("tongban.services.family", "import tongban.registry.models  # noqa",
     "tongban.services.family -> tongban.registry.models"),
])
def test_an_upward_import_breaks_the_contracts(copy: Path, module: str, line: str, named: str) -> None:
    path = _with(copy, module, line)
    original = path.read_text(encoding="utf-8").removesuffix(f"\n{line}\n")
    try:
        result = _lint(copy)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and named in result.stdout, result.stdout
