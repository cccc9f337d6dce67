"""The quality.yaml pack section refuses rules it could not check, with file, line and id."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.governance.conftest import PACK
from tongban.core.packs.loader import PackError, read_pack

BROKEN = """rules:
  - {id: q.a, dataset: ds.person, kind: pattern, field: phone, severity: low, description: {zh: 甲, en: a}}
  - {id: q.b, dataset: ds.person, kind: not_null, field: no_such_column, severity: low, description: {zh: 乙, en: b}}
  - {id: q.c, dataset: ds.case-records, kind: not_null, field: case_number, severity: low, description: {zh: 丙, en: c}}
  - {id: q.d, dataset: ds.nope, kind: not_null, field: id, severity: low, description: {zh: 丁, en: d}}
  - {id: q.e, dataset: ds.person, kind: pattern, field: phone, pattern: "([", severity: low, description: {zh: 戊, en: e}}
  - {id: q.f, dataset: ds.person, kind: range, field: disability_grade, severity: low, description: {zh: 己, en: f}}
  - {id: q.g, dataset: ds.enrolment, kind: referential, field: subject_id, references: {dataset: ds.person, field: nope}, severity: low, description: {zh: 庚, en: g}}
"""


def test_rules_that_cannot_be_checked_are_refused_each_with_its_id(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack)
    (pack / "quality.yaml").write_text(BROKEN, encoding="utf-8")
    with pytest.raises(PackError) as err:
        read_pack(pack)
    found = {(p.id, p.message.split(":")[0][:40]) for p in err.value.problems if p.file == "quality.yaml"}
    ids = {i for i, _ in found}
    assert ids == {"q.a", "q.b", "q.c", "q.d", "q.e", "q.f", "q.g"}
    assert all(p.line for p in err.value.problems if p.file == "quality.yaml")


def test_an_unknown_severity_is_refused(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack)
    text = (pack / "quality.yaml").read_text(encoding="utf-8").replace("severity: critical", "severity: urgent", 1)
    (pack / "quality.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PackError) as err:
        read_pack(pack)
    assert [p.id for p in err.value.problems] == ["q.person.id-number"]
