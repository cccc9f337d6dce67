"""Every message kind a slice sends is declared (`messages.kinds`), and a pack that lacks a
template for one is refused when it is checked — not when the first such message is sent."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import tongban
from tests.core.test_packs_errors import copy_demo
from tongban.core.packs.loader import PackError, read_pack
from tongban.messages.templates import sent_kinds


def _literal_kinds() -> set[str]:
    """The `kind="…"` literals of every `messages.send(…)` call in the source."""
    found: set[str] = set()
    for path in Path(tongban.__file__).parent.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if ".send(" not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "send":
                for kw in node.keywords:
                    if kw.arg == "kind" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                        found.add(kw.value.value)
    return found


def test_every_kind_sent_by_name_is_declared_by_its_slice() -> None:
    literal = _literal_kinds()
    assert {"case.supervised", "task.new", "rating.invite", "appointment.booked"} <= literal
    assert literal <= set(sent_kinds()), sorted(literal - set(sent_kinds()))


def test_the_demo_pack_has_a_template_for_every_kind_sent() -> None:
    read_pack(Path(tongban.__file__).parents[2] / "packs" / "demo")  # raises on a problem


def test_a_pack_missing_a_template_for_a_kind_sent_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pack = copy_demo(tmp_path)
    text = (pack / "messages.yaml").read_text(encoding="utf-8")
    start = text.index("  - kind: case.supervised")
    end = text.index("  - kind:", start + 1)
    (pack / "messages.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(PackError) as err:
        read_pack(pack)
    assert re.search(r"messages of kind 'case.supervised' are sent \(tongban.cases.notify:MESSAGE_KINDS\)", str(err.value))
