"""Broken packs are refused whole, each problem pointing at its file, line and id, and
nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.core.test_packs import DEMO, copy_demo, edit
from tongban.core.identity.models import Account, Department, PackRecord, Region, Role
from tongban.core.packs.loader import PackError, Problem, load_pack


@dataclass
class Breakage:
    file: str
    old: str
    new: str
    id: str | None
    message: str
    line_of: str | None = None  # the text whose line the problem must point at (default: `new`)


BREAKAGES = {
    "yaml-syntax-error": Breakage(
        "departments.yaml", "    kind: agency", "\tkind: agency", None,
        "YAML syntax error: found character '\\t' that cannot start any token"),
    "unknown-key": Breakage(
        "departments.yaml", "    short_name: {zh: 卫健局", "    shortname: {zh: 卫健局", "dept.haishu.health",
        "unknown key 'shortname'"),
    "wrong-type": Breakage(
        "roles.yaml", "    staff: false", "    staff: sometimes", "resident",
        "roles.0.staff: Input should be a valid boolean"),
    "wrong-choice": Breakage(
        "departments.yaml", "kind: utility, region", "kind: company, region", "dept.haishu.water",
        "departments.22.kind: Input should be 'government', 'street_office', 'utility' or 'agency'"),
    "missing-bilingual-title": Breakage(
        "regions.yaml", "name: {zh: 海曙区, en: Haishu District}", "name: {zh: 海曙区}", "330203",
        "missing required key 'en'"),
    "empty-bilingual-title": Breakage(
        "roles.yaml", 'name: {zh: 领导, en: "Leader"}', 'name: {zh: 领导, en: ""}', "leader",
        "roles.9.name.en: String should have at least 1 character"),
    "missing-pack-title": Breakage(
        "pack.yaml", "  en: Haishu District demo pack\n", "", "demo.haishu", "missing required key 'en'",
        line_of="title:"),
    "duplicate-id": Breakage(
        "departments.yaml", "{id: dept.ximen.office,", "{id: dept.nanmen.office,", "dept.nanmen.office",
        "duplicate department id 'dept.nanmen.office' (first defined in departments.yaml:",
        line_of='{id: dept.nanmen.office, kind: street_office, region: "330203003"'),
    "department-in-a-missing-region": Breakage(
        "departments.yaml", 'region: "330203003"', 'region: "330203099"', "dept.ximen.office",
        "region '330203099' is not defined in this pack"),
    "role-with-unknown-permission": Breakage(
        "roles.yaml", "permissions: [hotline.handle, person.find]",
        "permissions: [hotline.handle, person.find, hotline.fly]",
        "hotline_operator", "unknown permission 'hotline.fly'"),
    "region-code-outside-its-parent": Breakage(
        "regions.yaml", '{code: "330203009", level: street, parent: "330203"',
        '{code: "330206009", level: street, parent: "330203"', "330206009",
        "code '330206009' does not start with its parent's prefix '330203'"),
    "region-code-length-against-level": Breakage(
        "regions.yaml", '{code: "330203100", level: street', '{code: "330203100", level: community',
        "330203100", "a community code must be 12 digits, got '330203100'"),
    "region-parent-two-levels-up": Breakage(
        "regions.yaml", '{code: "330205001", level: street, parent: "330205"',
        '{code: "330205001", level: street, parent: "330200"', "330205001",
        "the parent of a street must be a county, '330200' is a city"),
    "street-office-not-in-a-street": Breakage(
        "departments.yaml", 'kind: street_office, region: "330203004"', 'kind: street_office, region: "330203"',
        "dept.yuehu.office", "a street office sits in a street or town, '330203' is a county"),
    "cast-invalid-id-number": Breakage(
        "cast.yaml", 'id_number: "330203199203150314"', 'id_number: "330203199203150315"', "resident.zhang",
        "not a valid resident ID number (GB 11643)"),
    "cast-staff-with-a-missing-role": Breakage(
        "cast.yaml", "roles: [hotline_operator]", "roles: [hotline_boss]", "hotline.haishu",
        "role 'hotline_boss' is not defined in this pack"),
    "cast-staff-in-a-missing-department": Breakage(
        "cast.yaml", "department: dept.haishu.cdc,", "department: dept.haishu.cdcx,", "officer.cdc",
        "department 'dept.haishu.cdcx' is not defined in this pack"),
    "cast-resident-in-a-missing-region": Breakage(
        "cast.yaml", 'region: "330203006001"', 'region: "330203006009"', "resident.sun",
        "region '330203006009' is not defined in this pack"),
    "unsupported-schema-version": Breakage(
        "pack.yaml", "schema_version: 1", "schema_version: 7", "demo.haishu",
        "schema_version 7 is not supported (this tongban reads 1)"),
}


def line_of(path: Path, text: str) -> int:
    first = text.splitlines()[0] if text.strip() else text
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if first in line:
            return i
    raise AssertionError(f"{text!r} not in {path}")


def assert_nothing_written(db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        for model in (Region, Department, Role, Account, PackRecord):
            assert s.scalar(select(func.count()).select_from(model)) == 0, model.__name__


@pytest.mark.parametrize("kind", list(BREAKAGES))
def test_a_broken_pack_is_refused_with_file_line_and_id(db, tmp_path, kind) -> None:  # type: ignore[no-untyped-def]
    b = BREAKAGES[kind]
    pack = copy_demo(tmp_path)
    edit(pack / b.file, b.old, b.new)
    with pytest.raises(PackError) as err, db.unit_of_work() as s:
        load_pack(s, pack, include_demo=True)
    expected_line = line_of(pack / b.file, b.line_of or b.new)
    matching = [p for p in err.value.problems if p.file == b.file and b.message in p.message]
    assert matching, "\n".join(map(str, err.value.problems))
    problem: Problem = matching[0]
    assert (problem.line, problem.id) == (expected_line, b.id), str(problem)
    assert problem.column is not None
    assert_nothing_written(db)


def test_an_id_number_never_appears_in_a_problem(tmp_path) -> None:
    pack = copy_demo(tmp_path)
    edit(pack / "cast.yaml", 'id_number: "330203199203150314"', 'id_number: "330203199203150315"')
    edit(pack / "cast.yaml", 'id_number: "330203199408210421"', 'id_number: "330205199012300642"')
    with pytest.raises(PackError) as err:
        load_pack(None, pack)  # type: ignore[arg-type] - refused before the database is touched
    text = str(err.value)
    assert "[resident.sun] the same ID number is already used by 'resident.li'" in text
    assert "[resident.zhang] not a valid resident ID number" in text
    assert "33020319920315031" not in text and "330205199012300642" not in text


def test_a_file_no_section_reads_is_refused(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pack = copy_demo(tmp_path)
    (pack / "region.yaml").write_text("regions: []\n", encoding="utf-8")
    with pytest.raises(PackError, match=r"region.yaml: no section reads this file"), db.unit_of_work() as s:
        load_pack(s, pack)
    assert_nothing_written(db)


def test_a_folder_without_pack_yaml_is_refused(tmp_path) -> None:
    with pytest.raises(PackError, match="no pack.yaml"):
        load_pack(None, tmp_path)  # type: ignore[arg-type]


def test_a_broken_newer_version_leaves_the_loaded_one_untouched(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        load_pack(s, DEMO)
    pack = copy_demo(tmp_path)
    edit(pack / "pack.yaml", 'version: "1.0.0"', 'version: "1.1.0"')
    edit(pack / "departments.yaml", "en: Haishu Civil Affairs Bureau", "en: Renamed")
    edit(pack / "roles.yaml", "permissions: [cockpit.view, cockpit.region]", "permissions: [cockpit.fly]")
    with pytest.raises(PackError), db.unit_of_work() as s:
        load_pack(s, pack)
    with db.unit_of_work() as s:
        assert s.get_one(Department, "dept.haishu.mca").name_en == "Haishu Civil Affairs Bureau"
        assert [p.version for p in s.scalars(select(PackRecord))] == ["1.0.0"]


def test_all_problems_are_reported_at_once(tmp_path) -> None:
    pack = copy_demo(tmp_path)
    for b in (BREAKAGES["unknown-key"], BREAKAGES["role-with-unknown-permission"],
              BREAKAGES["region-code-length-against-level"]):
        edit(pack / b.file, b.old, b.new)
    with pytest.raises(PackError) as err:
        load_pack(None, pack)  # type: ignore[arg-type]
    assert {p.file for p in err.value.problems} >= {"departments.yaml", "roles.yaml", "regions.yaml"}


def test_a_file_that_does_not_validate_does_not_bury_its_problem_under_dangling_references(tmp_path) -> None:
    pack = copy_demo(tmp_path)
    edit(pack / "regions.yaml", "name: {zh: 海曙区, en: Haishu District}", "name: {zh: 海曙区}")
    with pytest.raises(PackError) as err:
        load_pack(None, pack)  # type: ignore[arg-type]
    assert [(p.file, p.id, p.message) for p in err.value.problems] == [
        ("regions.yaml", "330203", "missing required key 'en'")]
