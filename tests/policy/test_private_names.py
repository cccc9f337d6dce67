"""The policy package uses no other module's private names (issue #16): what two compilers
share is public in `policy.analysis`, and a helper another module needs is public where it lives."""

from __future__ import annotations

import ast
from pathlib import Path

import tongban.policy

POLICY = Path(tongban.policy.__file__).parent


def _private_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()  # names bound to tongban modules in this file
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tongban"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.name}:{node.lineno} imports {node.module}.{alias.name}")
                modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules |= {a.asname or a.name.split(".")[0] for a in node.names if a.name.startswith("tongban")}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append(f"{path.name}:{node.lineno} uses {node.value.id}.{node.attr}")
    return found


def test_no_module_of_the_policy_package_uses_another_modules_private_names() -> None:
    files = sorted(POLICY.glob("*.py"))
    assert len(files) > 5
    assert [u for f in files for u in _private_uses(f)] == []


def test_the_check_sees_a_private_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from tongban.policy.compile_polars import _Compiler\nfrom tongban.policy import views as v\n"
                   "x = v._shift\n", encoding="utf-8")
    assert len(_private_uses(bad)) == 2
