"""Importing registry files: validation, reject file, idempotence, interrupted batches."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import func, select

from tests.factories import seed_base
from tests.registry.factories import id_number_for, make_household, uscc_for
from tongban.core.errors import Invalid
from tongban.registry import importer
from tongban.registry.models import BenefitEnrolment, Household, IncomeRecord, LegalEntity, Person

GOOD_1 = id_number_for(dt.date(1980, 5, 6), "M")
GOOD_2 = id_number_for(dt.date(1991, 12, 30), "F")
GOOD_3 = id_number_for(dt.date(2001, 2, 3), "F")
BAD_CHECK = GOOD_3[:17] + ("0" if GOOD_3[17] != "0" else "1")

HEADER = ["id_number", "name", "sex", "birth_date", "phone", "hukou_region_code", "region_code", "marital_status"]


def _csv(path: Path, header: list[str], rows: list[list[str]], *, encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _persons_csv(path: Path, rows: list[list[str]]) -> Path:
    return _csv(path, HEADER, rows)


def _rows() -> list[list[str]]:
    return [
        [GOOD_1, "赵大", "M", "1980-05-06", "13811112222", "330203", "330203001001", "married"],   # line 2
        [BAD_CHECK, "钱二", "F", "2001-02-03", "", "330203", "330203001001", "single"],           # line 3
        [GOOD_2, "孙三", "F", "1991-12-30", "", "330203", "330203001001", "single"],              # line 4
        [GOOD_3, "李四", "M", "2001-02-03", "", "330203", "330203001001", "single"],              # line 5: sex wrong
        [GOOD_3, "李四", "F", "2001-02-03", "12345", "330203", "330203001001", "single"],         # line 6: phone
        [GOOD_3, "李四", "F", "2001-02-03", "", "330203", "999999999999", "single"],              # line 7: region
        [GOOD_3, "李四", "F", "2001-02-30", "", "330203", "330203001001", "single"],              # line 8: date
        [GOOD_3, "李四", "F", "2001-02-03", "", "330203", "330203001001", "engaged"],             # line 9: enum
    ]


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _rejects(report: importer.ImportReport) -> list[dict[str, str]]:
    assert report.reject_file is not None
    with report.reject_file.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def base(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    return db


def test_good_rows_load_bad_rows_go_to_the_reject_file(base, tmp_path):  # type: ignore[no-untyped-def]
    src = _persons_csv(tmp_path / "persons.csv", _rows())
    report = importer.import_file(base, "persons", src, batch_size=3)
    assert (report.counts.loaded, report.counts.rejected) == (2, 6)
    assert _count(base, Person) == 2
    assert report.reject_file == tmp_path / "persons.rejects.csv"
    rejects = _rejects(report)
    assert [(r["line"], r["field"]) for r in rejects] == [
        ("3", "id_number"), ("5", "id_number"), ("6", "phone"), ("7", "region_code"), ("8", "birth_date"),
        ("9", "marital_status")]
    assert rejects[0]["reason_en"] == "The ID number's check character is wrong"
    assert rejects[0]["reason_zh"] == "身份证号码的校验位不正确"
    assert rejects[1]["reason_en"] == "The sex does not agree with the ID number"
    assert rejects[3]["reason_en"] == "Unknown region code"
    assert rejects[4]["reason_en"] == "Not a valid date (YYYY-MM-DD)"
    assert all(r["reason_zh"] and r["reason_zh"] != r["reason_en"] for r in rejects)
    # The reject file names the line and the reason, never the rejected values.
    text = report.reject_file.read_text(encoding="utf-8")
    assert BAD_CHECK not in text and "李四" not in text


def test_reimport_changes_nothing_and_an_edit_updates(base, tmp_path):  # type: ignore[no-untyped-def]
    src = _persons_csv(tmp_path / "persons.csv", _rows())
    importer.import_file(base, "persons", src)
    with base.unit_of_work() as s:
        hh = make_household(s)
        person = s.scalars(select(Person).where(Person.id_number == GOOD_1)).one()
        person.household_id = hh.id
        before = {p.id_number: (p.id, p.updated_at) for p in s.scalars(select(Person))}
    again = importer.import_file(base, "persons", src)
    assert (again.counts.loaded, again.counts.updated, again.counts.unchanged) == (0, 0, 2)
    with base.unit_of_work() as s:
        assert {p.id_number: (p.id, p.updated_at) for p in s.scalars(select(Person))} == before
    rows = _rows()
    rows[0][4] = "13899990000"
    again = importer.import_file(base, "persons", _persons_csv(tmp_path / "p2.csv", rows))
    assert (again.counts.loaded, again.counts.updated, again.counts.unchanged) == (0, 1, 1)
    assert _count(base, Person) == 2
    with base.unit_of_work() as s:
        person = s.scalars(select(Person).where(Person.id_number == GOOD_1)).one()
        # The import's columns change; what the file does not carry (the household link) stays.
        assert person.phone == "13899990000" and person.household_id is not None
        assert person.id == before[GOOD_1][0] and person.updated_at > before[GOOD_1][1]


def test_interrupted_import_leaves_no_partial_batch(base, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    ids = [id_number_for(dt.date(1970 + i, 7, 7), "M") for i in range(5)]
    rows = [[n, "周" + "一二三四五"[i], "M", f"{1970 + i}-07-07", "", "330203", "330203001001", "married"]
            for i, n in enumerate(ids)]
    src = _persons_csv(tmp_path / "persons.csv", rows)
    real_writer = importer.write_batch
    calls = {"n": 0}

    def crash_in_the_second_batch(session, spec, batch: list[dict[str, Any]]) -> None:  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            real_writer(session, spec, batch[:1])  # half the batch is written …
            raise KeyboardInterrupt("power cut")  # … then the power goes
        real_writer(session, spec, batch)

    monkeypatch.setattr(importer, "write_batch", crash_in_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        importer.import_file(base, "persons", src, batch_size=2)
    with base.unit_of_work() as s:
        # The first batch, whole; nothing of the second.
        assert set(s.scalars(select(Person.id_number))) == set(ids[:2])
    monkeypatch.undo()
    report = importer.import_file(base, "persons", src, batch_size=2)
    assert (report.counts.loaded, report.counts.unchanged, report.counts.rejected) == (3, 2, 0)
    assert report.reject_file is None and not (tmp_path / "persons.rejects.csv").exists()
    assert _count(base, Person) == 5


def test_a_key_repeated_in_the_file_is_rejected(base, tmp_path):  # type: ignore[no-untyped-def]
    rows = _rows()[:1] + _rows()[2:3] + [_rows()[0][:4] + ["13800000000"] + _rows()[0][5:]]
    report = importer.import_file(base, "persons", _persons_csv(tmp_path / "p.csv", rows), batch_size=2)
    assert (report.counts.loaded, report.counts.rejected) == (2, 1)
    [reject] = _rejects(report)
    assert (reject["line"], reject["field"]) == ("4", "id_number")
    assert reject["reason_en"] == "This row repeats the key of line 2"
    assert reject["reason_zh"] == "本行与第 2 行的主键重复"
    with base.unit_of_work() as s:
        assert s.scalars(select(Person.phone).where(Person.id_number == GOOD_1)).one() == "13811112222"


def test_parquet_incomes_and_enrolments_are_idempotent(base, tmp_path):  # type: ignore[no-untyped-def]
    importer.import_file(base, "persons", _persons_csv(tmp_path / "p.csv", _rows()[:1]))
    with base.unit_of_work() as s:
        make_household(s, number="330203000777")
    incomes = tmp_path / "incomes.parquet"
    pl.DataFrame({"id_number": [GOOD_1, GOOD_1, GOOD_2, GOOD_1, GOOD_1],
                  "month": ["2026-09", "2026-13", "2026-09", "2026-10", "2026-09"],
                  "source": ["wage", "wage", "wage", "wage", "pension"],
                  "amount_fen": [512300, 1, 100, -5, 180000]}).write_parquet(incomes)
    report = importer.import_file(base, "incomes", incomes)
    assert (report.counts.loaded, report.counts.rejected) == (2, 3)
    assert [(r["line"], r["field"]) for r in _rejects(report)] == [("2", "month"), ("3", "id_number"),
                                                                  ("4", "amount_fen")]
    assert _rejects(report)[1]["reason_en"] == "No person with this ID number is in the registry"
    again = importer.import_file(base, "incomes", incomes)
    assert (again.counts.loaded, again.counts.updated, again.counts.unchanged) == (0, 0, 2)
    assert _count(base, IncomeRecord) == 2

    enrol = tmp_path / "e.csv"
    enrol.write_text("subject_kind,subject_key,benefit_code,start_date,end_date,amount_fen\n"
                     f"person,{GOOD_1},disability.care,2026-01-01,,\n"
                     f"person,{GOOD_1},assistance.dibao,2026-05-01,2026-04-01,\n"
                     "household,330203000777,assistance.dibao,2026-02-01,,84000\n"
                     "household,330203000999,assistance.dibao,2026-02-01,,84000\n"
                     "household,330203000777,assistance.dibao,2026-03-01,,12.5\n", encoding="utf-8")
    report = importer.import_file(base, "enrolments", enrol)
    assert (report.counts.loaded, report.counts.rejected) == (2, 3)
    assert [(r["line"], r["field"]) for r in _rejects(report)] == [("3", "end_date"), ("5", "subject_key"),
                                                                  ("6", "amount_fen")]
    enrol.write_text(enrol.read_text(encoding="utf-8").replace(",,84000", ",2026-12-31,84000"), encoding="utf-8")
    again = importer.import_file(base, "enrolments", enrol)
    assert (again.counts.loaded, again.counts.updated, again.counts.unchanged) == (0, 1, 1)
    assert _count(base, BenefitEnrolment) == 2


def test_households_and_entities(base, tmp_path):  # type: ignore[no-untyped-def]
    hh = _csv(tmp_path / "h.csv", ["household_number", "region_code", "housing_area_m2", "vehicles"], [
        ["330203100001", "330203001001", "86", "1"],
        ["330203100002", "330203001001", "-3", "0"],
        ["330203100003", "330203001001", "", ""],
    ])
    report = importer.import_file(base, "households", hh)
    assert (report.counts.loaded, report.counts.rejected) == (2, 1)
    assert _rejects(report)[0]["field"] == "housing_area_m2"
    assert importer.import_file(base, "households", hh).counts.unchanged == 2
    assert _count(base, Household) == 2

    good, bad = uscc_for(1), uscc_for(2)[:17] + ("0" if uscc_for(2)[17] != "0" else "1")
    ent = _csv(tmp_path / "ent.csv", ["uscc", "name", "entity_type", "region_code", "established_on"], [
        [good, "宁波市海曙区示例科技有限公司", "company", "330203", "2015-04-01"],
        [bad, "宁波市海曙区另一家有限公司", "company", "330203", ""],
        [uscc_for(3), "宁波市海曙区第三家有限公司", "spaceship", "330203", ""],
    ])
    report = importer.import_file(base, "entities", ent)
    assert (report.counts.loaded, report.counts.rejected) == (1, 2)
    assert [(r["field"], r["reason_en"]) for r in _rejects(report)] == [
        ("uscc", "The unified social credit code's check character is wrong"),
        ("entity_type", "This value is not in the expected format")]
    assert importer.import_file(base, "entities", ent).counts.unchanged == 1
    assert _count(base, LegalEntity) == 1


def test_a_wrong_header_stops_the_import_before_anything_is_written(base, tmp_path):  # type: ignore[no-untyped-def]
    missing = _csv(tmp_path / "m.csv", [c for c in HEADER if c != "birth_date"],
                   [[c for i, c in enumerate(_rows()[0]) if i != 3]])
    with pytest.raises(Invalid) as exc:
        importer.import_file(base, "persons", missing)
    assert exc.value.field == "birth_date"
    unknown = _csv(tmp_path / "u.csv", [*HEADER, "favourite_colour"], [[*_rows()[0], "blue"]])
    with pytest.raises(Invalid) as exc:
        importer.import_file(base, "persons", unknown)
    assert exc.value.field == "favourite_colour"
    with pytest.raises(Invalid) as exc:
        importer.import_file(base, "persons", tmp_path / "x.xlsx")
    assert exc.value.field == "file"
    gbk = _csv(tmp_path / "gbk.csv", HEADER, _rows()[:1], encoding="gbk")
    with pytest.raises(Invalid) as exc:
        importer.import_file(base, "persons", gbk)
    assert exc.value.field == "file"
    assert _count(base, Person) == 0
    assert not list(tmp_path.glob("*.rejects.csv"))


def test_excel_byte_order_mark_and_ignored_table_columns(base, tmp_path):  # type: ignore[no-untyped-def]
    src = _csv(tmp_path / "bom.csv", ["id", *HEADER], [["7", *_rows()[0]]], encoding="utf-8-sig")
    report = importer.import_file(base, "persons", src)
    assert (report.counts.loaded, report.counts.rejected) == (1, 0) and report.ignored_columns == ["id"]
    with base.unit_of_work() as s:
        assert s.scalars(select(Person.name).where(Person.id_number == GOOD_1)).one() == "赵大"


def test_import_command(base, cli, tmp_path):  # type: ignore[no-untyped-def]
    src = _persons_csv(tmp_path / "persons.csv", _rows())
    reject = tmp_path / "out" / "rejects.csv"
    reject.parent.mkdir()
    r = cli("registry", "import", "persons", str(src), "--reject-file", str(reject), "--batch-size", "2")
    assert r.exit_code == 0, r.output
    assert "loaded" in r.output and "rejected rows" in r.output
    assert len(list(csv.DictReader(reject.open(encoding="utf-8")))) == 6
    r = cli("registry", "import", "persons", str(src), "--reject-file", str(reject))
    assert r.exit_code == 0 and "│ 0      │ 0       │ 2         │ 6" in r.output, r.output
    assert cli("registry", "import", "pets", str(src)).exit_code == 2
    assert cli("registry", "import", "persons", str(tmp_path / "missing.csv")).exit_code == 2
    bad = _csv(tmp_path / "bad.csv", ["name"], [["x"]])
    r = cli("registry", "import", "persons", str(bad))
    assert r.exit_code == 2 and "birth_date" in r.output, r.output
