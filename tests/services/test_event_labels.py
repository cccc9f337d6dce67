"""Every timeline event kind the code writes has a label (zh and en) on the portal and
workbench pages. The kinds are read from the source: each `record_event(…)`, `_flag(…)` and
`ApplicationEvent(kind=…)` call; a kind built with an f-string must be listed below with
what it expands to, so a new one fails here until it is labelled."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

from tongban.core.i18n import _current, set_locale, translations
from tongban.services import applications, pages

SRC = Path(applications.__file__).resolve().parents[1]
# f-string kinds → every value they take
EXPANSIONS = {
    "f'task.{decision}'": {f"task.{d}" for d in get_args(applications.Decision)},
    "f'application.{app.status}'": {"application.completed", "application.partly_completed", "application.rejected"},
}


def _kind_arg(call: ast.Call) -> ast.expr | None:
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
    if name == "ApplicationEvent":
        return next((k.value for k in call.keywords if k.arg == "kind"), None)
    if name in ("record_event", "_flag") and len(call.args) >= 4:
        return call.args[3]
    return None


def written_kinds() -> set[str]:
    kinds: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            arg = _kind_arg(node)
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                kinds.add(arg.value)
            elif isinstance(arg, ast.JoinedStr):
                text = ast.unparse(arg)
                assert text in EXPANSIONS, f"{path.name}: a timeline kind {text} the test does not know; label it"
                kinds |= EXPANSIONS[text]
            elif arg is not None:
                assert isinstance(arg, ast.Name) and arg.id == "kind", f"{path.name}: kind {ast.unparse(arg)}"
    return kinds


def test_the_scan_finds_the_kinds_of_every_writer() -> None:
    kinds = written_kinds()
    assert {"submitted", "draft.saved", "task.approve", "task.objection", "task.notice_completed",
            "task.deadline_warning", "task.overdue", "task.reassigned", "application.withdrawn"} <= kinds


def test_every_timeline_kind_written_has_a_label_in_zh_and_en() -> None:
    missing = sorted(written_kinds() - set(pages.EVENT_LABELS))
    assert missing == []
    zh = translations("zh_CN")
    for kind, label in pages.EVENT_LABELS.items():
        assert zh.gettext(label) != label, f"{kind}: {label!r} has no zh translation"
    for label in pages.FILING_LABELS.values():
        assert zh.gettext(label) != label, f"{label!r} has no zh translation"


def test_a_filing_by_someone_else_is_named_in_the_timeline() -> None:
    token = set_locale("en")
    try:
        assert pages.event_label("submitted", {"filing": "counter"}) == "Filed at a service-hall counter"
        assert pages.event_label("submitted", {"filing": "proxy"}) == "Filed by an authorised proxy"
        assert pages.event_label("submitted", {"filing": "self", "items": []}) == "Submitted"
        assert pages.event_label("task.overdue") == "Overdue"
    finally:
        _current.reset(token)
