"""The pack loader and the demo pack: load, reload, versions, extension by a new section, CLI."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import pytest
from sqlalchemy import func, select

from tongban.core.audit.models import AuditEvent
from tongban.core.identity.models import Account, Department, PackRecord, Region, Role
from tongban.core.packs import loader
from tongban.core.packs.loader import (
    Changes,
    PackError,
    current_pack_version,
    load_pack,
    parse_yaml,
    read_pack,
    register_section,
)
from tongban.core.packs.models import Defines, PackModel, RefersTo, SectionFile, Text

DEMO = Path(__file__).resolve().parents[2] / "packs" / "demo"


def copy_demo(tmp_path: Path) -> Path:
    dest = tmp_path / "pack"
    shutil.copytree(DEMO, dest)
    return dest


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def snapshot(db) -> dict[str, list[tuple[object, ...]]]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return {
            "regions": [(r.code, r.level, r.prefix, r.parent_code, r.name_zh, r.name_en)
                        for r in s.scalars(select(Region).order_by(Region.code))],
            "departments": [(d.id, d.name_zh, d.name_en, d.kind, d.region_code, d.pack_id)
                            for d in s.scalars(select(Department).order_by(Department.id))],
            "roles": [(r.id, r.name_zh, r.name_en, tuple(r.permissions), r.staff)
                      for r in s.scalars(select(Role).order_by(Role.id))],
            "packs": [(p.pack_id, p.version, p.digest, p.current, p.loaded_at)
                      for p in s.scalars(select(PackRecord).order_by(PackRecord.id))],
            "audit": [(e.id,) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))],
        }


# --- the demo pack -----------------------------------------------------------------------


def test_demo_pack_reads_without_problems() -> None:
    pack = read_pack(DEMO)
    assert pack.id == "demo.haishu"
    assert pack.manifest.title.zh and pack.manifest.title.en
    assert pack.get("region", "330203").name.zh == "海曙区"
    assert pack.get("region", "330203001").name.zh == "南门街道"
    assert set(pack.ids("role")) == {"resident", "officer", "dept_admin", "data_steward", "auditor",
                                     "platform_admin", "grid_worker", "hotline_operator", "leader",
                                     "quality_officer", "places_editor", "dept_head", "supervisor", "rating_reviewer",
                                     "counter_clerk"}
    assert len(pack.digest) == 64


def test_loading_the_demo_pack_writes_the_region_tree_departments_and_roles(db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        report = load_pack(s, DEMO)
    assert report.record == "new" and report.sections["regions"].created > 40
    assert report.skipped == ["grants", "cast", "residents", "demo_cases"]  # the demo-only sections
    with db.unit_of_work() as s:
        haishu = s.get_one(Region, "330203")
        assert (haishu.level, haishu.parent_code, haishu.prefix, haishu.name_en) == (
            "county", "330200", "330203", "Haishu District")
        assert s.get_one(Region, "330200").prefix == "3302"
        assert s.get_one(Region, "330000").prefix == "33"
        nanmen = s.get_one(Region, "330203001")
        assert (nanmen.level, nanmen.parent_code, nanmen.name_zh) == ("street", "330203", "南门街道")
        community = s.get_one(Region, "330203001001")
        assert (community.level, community.parent_code) == ("community", "330203001")
        assert s.get(Region, "330205") is not None  # another Ningbo district, for out-of-region rules
        mca = s.get_one(Department, "dept.haishu.mca")
        assert (mca.name_zh, mca.kind, mca.region_code, mca.pack_id) == (
            "海曙区民政局", "government", "330203", "demo.haishu")
        office = s.get_one(Department, "dept.nanmen.office")
        assert (office.kind, office.region_code) == ("street_office", "330203001")
        assert s.get_one(Department, "dept.haishu.water").kind == "utility"
        officer = s.get_one(Role, "officer")
        assert set(officer.permissions) == {"person.read", "task.decide", "counter.file", "staff.read",
                                            "appointments.serve"}
        assert s.get_one(Role, "resident").staff is False
        assert current_pack_version(s) == ("demo.haishu", "1.0.0")
    assert count(db, Account) == 0  # the cast is demo-only


def test_loading_the_same_pack_twice_changes_nothing(db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        load_pack(s, DEMO)
    before = snapshot(db)
    with db.unit_of_work() as s:
        report = load_pack(s, DEMO)
    assert not report.changed and report.record == "unchanged"
    assert all(c.created == c.updated == 0 for c in report.sections.values())
    assert snapshot(db) == before


def test_a_newer_version_updates_what_changed_and_becomes_current(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        load_pack(s, DEMO)
    pack = copy_demo(tmp_path)
    edit(pack / "pack.yaml", 'version: "1.0.0"', 'version: "1.1.0"')
    edit(pack / "departments.yaml", "en: Haishu Civil Affairs Bureau", "en: Civil Affairs Bureau of Haishu")
    with db.unit_of_work() as s:
        report = load_pack(s, pack)
    assert report.record == "new"
    assert (report.sections["departments"].updated, report.sections["regions"].updated) == (1, 0)
    with db.unit_of_work() as s:
        assert s.get_one(Department, "dept.haishu.mca").name_en == "Civil Affairs Bureau of Haishu"
        assert current_pack_version(s) == ("demo.haishu", "1.1.0")
        rows = {p.version: p.current for p in s.scalars(select(PackRecord))}
        assert rows == {"1.0.0": False, "1.1.0": True}
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "pack.load")) == 2


def test_the_same_version_with_different_content_is_refused(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        load_pack(s, DEMO)
    before = snapshot(db)
    pack = copy_demo(tmp_path)
    edit(pack / "departments.yaml", "en: Haishu Civil Affairs Bureau", "en: Something else")
    with pytest.raises(PackError) as err, db.unit_of_work() as s:
        load_pack(s, pack)
    (problem,) = err.value.problems
    assert (problem.file, problem.id) == ("pack.yaml", "demo.haishu")
    assert problem.line == 5 and "raise the version" in problem.message
    assert snapshot(db) == before


def test_an_older_version_is_refused(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    newer = copy_demo(tmp_path)
    edit(newer / "pack.yaml", 'version: "1.0.0"', 'version: "2.0"')
    with db.unit_of_work() as s:
        load_pack(s, newer)
    with pytest.raises(PackError, match="older than the loaded version 2.0"), db.unit_of_work() as s:
        load_pack(s, DEMO)
    with db.unit_of_work() as s:
        assert current_pack_version(s) == ("demo.haishu", "2.0")


def test_current_pack_version_is_none_before_any_pack(db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        assert current_pack_version(s) is None


# --- YAML positions ----------------------------------------------------------------------


def test_every_key_and_list_item_knows_its_line_and_column() -> None:
    doc = parse_yaml("a: 1\nitems:\n  - id: x\n    name: {zh: 甲, en: A}\n  - id: y\n", "f.yaml")
    assert doc.problems == []
    assert doc.data == {"a": 1, "items": [{"id": "x", "name": {"zh": "甲", "en": "A"}}, {"id": "y"}]}
    assert doc.marks[("items",)] == (2, 1)
    assert doc.marks[("items", 1)] == (5, 5)
    assert doc.marks[("items", 0, "name", "en")] == (4, 19)
    assert doc.mark(("items", 0, "name", "missing")) == (4, 5)


def test_a_key_given_twice_is_a_problem_not_a_silent_overwrite() -> None:
    doc = parse_yaml("id: a\nid: b\n", "f.yaml")
    assert [(p.line, "twice" in p.message) for p in doc.problems] == [(2, True)]


# --- a later feature adds its own section -------------------------------------------------


class Thing(PackModel):
    id: Annotated[str, Defines("thing")]
    title: Text
    owner: Annotated[str, RefersTo("department")]
    needs: Annotated[list[str], RefersTo("thing")] = []


class ThingsFile(SectionFile):
    things: list[Thing]


def test_a_registered_section_is_validated_cross_checked_and_applied(db, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    applied: list[str] = []

    def apply_things(session, files, pack):  # type: ignore[no-untyped-def]
        applied.extend(t.id for f in files for t in f.model.things)
        return Changes(created=len(applied))

    loader.sections()  # discover the built-in sections first
    monkeypatch.setattr(loader, "_SECTIONS", dict(loader._SECTIONS))  # the registry is restored after
    register_section("things", ThingsFile, files="things/*.yaml", apply=apply_things, order=50)
    pack = copy_demo(tmp_path)
    (pack / "things").mkdir()
    (pack / "things" / "a.yaml").write_text(
        "things:\n"
        "  - id: thing.one\n    title: {zh: 一, en: One}\n    owner: dept.haishu.mca\n"
        "  - id: thing.two\n    title: {zh: 二, en: Two}\n    owner: dept.haishu.nowhere\n"
        "    needs: [thing.one, thing.three]\n", encoding="utf-8")
    with pytest.raises(PackError) as err:
        read_pack(pack)
    found = {(p.file, p.line, p.id, p.message) for p in err.value.problems}
    assert found == {
        ("things/a.yaml", 7, "thing.two", "department 'dept.haishu.nowhere' is not defined in this pack"),
        ("things/a.yaml", 8, "thing.two", "thing 'thing.three' is not defined in this pack"),
    }
    edit(pack / "things" / "a.yaml", "dept.haishu.nowhere", "dept.haishu.health")
    edit(pack / "things" / "a.yaml", ", thing.three", "")
    with db.unit_of_work() as s:
        report = load_pack(s, pack)
    assert applied == ["thing.one", "thing.two"] and report.sections["things"].created == 2


# --- CLI ---------------------------------------------------------------------------------


def test_pack_check_prints_a_summary(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("pack", "check", str(DEMO))
    assert r.exit_code == 0, r.output
    assert "demo.haishu" in r.output and "15 role(s)" in r.output


def test_pack_check_prints_the_policy_analysis_warnings(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue #18: a parameter left without a value somewhere loads, but `pack check` says so
    (as `policy check` does), with file and line; still exit 0."""
    r = cli("pack", "check", str(DEMO))  # the demo's dibao_standard has regional values only
    assert r.exit_code == 0, r.output
    assert "warning: policies/assistance.yaml:13:5: [dibao_standard] no value for everywhere" in r.output
    # (and, where a slice whose indicator an early-warning rule reads is not installed, one per rule)
    others = [line for line in r.output.splitlines() if line.startswith("warning:") and "cockpit.yaml" not in line]
    assert len(others) == 1, r.output
    pack = copy_demo(tmp_path)
    edit(pack / "policies" / "assistance.yaml", '      - {region: "3302", from: 2025-01-01, value: 1195}',
         '      - {region: "3302", from: 2025-01-01, value: 1195}\n      - {from: 2025-01-01, value: 1195}')
    r = cli("pack", "check", str(pack))
    assert r.exit_code == 0, r.output
    assert "no value for everywhere" not in r.output


def test_pack_check_lists_problems_with_file_and_line_and_exits_2(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pack = copy_demo(tmp_path)
    edit(pack / "roles.yaml", "permissions: [cockpit.view, cockpit.region]",
         "permissions: [cockpit.view, cockpit.region, cockpit.fly]")
    r = cli("pack", "check", str(pack))
    assert r.exit_code == 2
    line = (pack / "roles.yaml").read_text(encoding="utf-8").splitlines().index(
        "    permissions: [cockpit.view, cockpit.region, cockpit.fly]") + 1
    assert f"roles.yaml:{line}:49: [leader] unknown permission 'cockpit.fly'" in r.output


def test_pack_load_writes_and_pack_list_shows_it(db, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("pack", "load", str(DEMO))
    assert r.exit_code == 0, r.output
    assert "loaded demo.haishu 1.0.0" in r.output
    assert count(db, Region) > 40 and count(db, Account) == 0
    r = cli("pack", "load", str(DEMO))
    assert r.exit_code == 0 and "nothing changed" in r.output
    r = cli("pack", "list")
    assert r.exit_code == 0 and "demo.haishu" in r.output and "1.0.0" in r.output


def test_pack_load_of_a_broken_pack_exits_2_and_writes_nothing(db, cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pack = copy_demo(tmp_path)
    edit(pack / "departments.yaml", 'region: "330203003"', 'region: "330203099"')
    r = cli("pack", "load", str(pack))
    assert r.exit_code == 2
    assert "[dept.ximen.office] region '330203099' is not defined in this pack" in r.output
    assert count(db, Region) == count(db, PackRecord) == 0
