"""Importing registry files: validation, reject file, idempotence, interrupted batches."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from tests.factories import seed_base
from tests.registry.factories import id_number_for
from tongban.registry import importer
from tongban.registry.models import BenefitEnrolment, IncomeRecord, Person

GOOD_1 = id_number_for(dt.date(1980, 5, 6), "M")
GOOD_2 = id_number_for(dt.date(1991, 12, 30), "F")
GOOD_3 = id_number_for(dt.date(2001, 2, 3), "F")
BAD_CHECK = GOOD_3[:17] + ("0" if GOOD_3[17] != "0" else "1")

HEADER = ["id_number", "name", "sex", "birth_date", "phone", "hukou_region_code", "region_code", "marital_status"]


def _persons_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def _rows() -> list[list[str]]:
    return [
        [GOOD_1, "赵大", "M", "1980-05-06", "13811112222", "330203", "330203001001", "married"],   # line 2
        [BAD_CHECK, "钱二", "F", "2001-02-03", "", "330203", "330203001001", "single"],           # line 3
        [GOOD_2, "孙三", "F", "1991-12-30", "", "330203", "330203001001", "single"],              # line 4
        [GOOD_3, "李四", "M", "2001-02-03", "", "330203", "330203001001", "single"],              # line 5: sex wrong
        [GOOD_3, "李四", "F", "2001-02-03", "12345", "330203", "330203001001", "single"],         # line 6: phone
        [GOOD_3, "李四", "F", "2001-02-03", "", "330203", "999999999999", "single"],              # line 7: region
    ]


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_good_rows_load_bad_rows_go_to_the_reject_file(db, tmp_path):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    src = _persons_csv(tmp_path / "persons.csv", _rows())
    report = importer.import_file(db, "persons", src, batch_size=2)
    assert (report.counts.loaded, report.counts.rejected) == (2, 4)
    assert _count(db, Person) == 2
    assert report.reject_file is not None
    rejects = list(csv.DictReader(report.reject_file.open(encoding="utf-8")))
    assert [(r["line"], r["field"]) for r in rejects] == [("3", "id_number"), ("5", "id_number"),
                                                          ("6", "phone"), ("7", "region_code")]
    assert rejects[0]["reason_en"] == "The ID number's check character is wrong"
    assert rejects[0]["reason_zh"] and rejects[0]["reason_zh"] != rejects[0]["reason_en"]
    assert rejects[3]["reason_en"] == "Unknown region code"


def test_reimport_changes_nothing_and_an_edit_updates(db, tmp_path):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    src = _persons_csv(tmp_path / "persons.csv", _rows())
    importer.import_file(db, "persons", src)
    again = importer.import_file(db, "persons", src)
    assert (again.counts.loaded, again.counts.updated, again.counts.unchanged) == (0, 0, 2)
    rows = _rows()
    rows[0][4] = "13899990000"
    again = importer.import_file(db, "persons", _persons_csv(tmp_path / "p2.csv", rows))
    assert (again.counts.loaded, again.counts.updated, again.counts.unchanged) == (0, 1, 1)
    assert _count(db, Person) == 2


def test_interrupted_import_leaves_no_partial_batch(db, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    rows = [r for r in _rows() if r[0] in (GOOD_1, GOOD_2)]
    extra = id_number_for(dt.date(1975, 7, 7), "M")
    rows.append([extra, "周五", "M", "1975-07-07", "", "330203", "330203001001", "married"])
    src = _persons_csv(tmp_path / "persons.csv", rows)
    calls = {"n": 0}

    def crash_on_second_batch(n: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(importer, "write_batch_hook", crash_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        importer.import_file(db, "persons", src, batch_size=2)
    assert _count(db, Person) == 2  # the first batch, whole; nothing of the second
    monkeypatch.setattr(importer, "write_batch_hook", lambda n: None)
    report = importer.import_file(db, "persons", src, batch_size=2)
    assert (report.counts.loaded, report.counts.unchanged) == (1, 2)
    assert _count(db, Person) == 3


def test_parquet_incomes_and_enrolments(db, tmp_path):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    importer.import_file(db, "persons", _persons_csv(tmp_path / "p.csv", _rows()[:1]))
    incomes = tmp_path / "incomes.parquet"
    pl.DataFrame({"id_number": [GOOD_1, GOOD_1, GOOD_2], "month": ["2026-09", "2026-13", "2026-09"],
                  "source": ["wage", "wage", "wage"], "amount_fen": [512300, 1, 100]}).write_parquet(incomes)
    report = importer.import_file(db, "incomes", incomes)
    assert (report.counts.loaded, report.counts.rejected) == (1, 2)
    assert report.reject_file is not None
    fields = [r["field"] for r in csv.DictReader(report.reject_file.open(encoding="utf-8"))]
    assert fields == ["month", "id_number"]
    assert _count(db, IncomeRecord) == 1
    enrol = _persons_csv(tmp_path / "e.csv", [])
    enrol.write_text("subject_kind,subject_key,benefit_code,start_date,end_date\n"
                     f"person,{GOOD_1},benefit.dibao,2026-01-01,\n"
                     f"person,{GOOD_1},benefit.dibao,2026-05-01,2026-04-01\n", encoding="utf-8")
    report = importer.import_file(db, "enrolments", enrol)
    assert (report.counts.loaded, report.counts.rejected) == (1, 1)
    assert _count(db, BenefitEnrolment) == 1


def test_import_command(db, cli, tmp_path):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    src = _persons_csv(tmp_path / "persons.csv", _rows())
    r = cli("registry", "import", "persons", str(src))
    assert r.exit_code == 0, r.output
    assert "rejected rows" in r.output
    assert cli("registry", "import", "pets", str(src)).exit_code == 2
    assert cli("registry", "import", "persons", str(tmp_path / "missing.csv")).exit_code == 2
