"""Importing places from CSV and Parquet: rejects with line, field and reason (zh, en), GCJ-02
converted to the stored WGS-84, upsert by key, the staff's region, the API and the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from tests.factories import make_staff, token_for
from tongban.core import geo
from tongban.core.access import Principal
from tongban.core.errors import Invalid
from tongban.places.importer import import_places
from tongban.places.models import Place

OPERATOR = Principal(kind="system", username="test", permissions=frozenset({"places.manage"}))
HEADER = ["key", "name_zh", "name_en", "category", "region_code", "longitude", "latitude", "datum", "hours",
          "holidays", "services", "accessibility", "items"]


def _csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


ROWS = [
    ["imp.clinic-1", "一号卫生站", "Clinic One", "clinic", "330203004001", "121.545", "29.871", "",
     "mon-fri 08:00-17:00; sat 08:00-12:00", "open", "全科门诊;预防接种", "wheelchair", "item.vaccination"],
    ["imp.hall-gcj", "GCJ 服务点", "", "service_hall", "330203001001", "121.5521", "29.8634", "gcj02",
     "mon-fri 08:30-17:00", "", "", "", ""],
    ["imp.bad-cat", "无此类", "", "zoo", "", "121.5", "29.8", "", "", "", "", "", ""],        # line 4
    ["imp.bad-lat", "纬度错", "", "clinic", "", "121.5", "95", "", "", "", "", "", ""],        # line 5
    ["imp.clinic-1", "重复", "", "clinic", "", "121.5", "29.8", "", "", "", "", "", ""],        # line 6
    ["imp.bad-hours", "时间错", "", "clinic", "", "121.5", "29.8", "", "mon 17:00-08:00", "", "", "", ""],
    ["imp.bad-num", "数字错", "", "clinic", "", "east", "29.8", "", "", "", "", "", ""],        # line 8
]


def test_import_csv_with_rejects_and_datums(pack, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _csv(tmp_path / "places.csv", ROWS)
    report = import_places(pack, path, principal=OPERATOR)
    assert (report.loaded, report.updated, report.rejected) == (2, 0, 5)
    assert report.reject_file is not None
    rejects = list(csv.DictReader(report.reject_file.open(encoding="utf-8")))
    assert [(r["line"], r["field"]) for r in rejects] == [
        ("4", "category"), ("5", "latitude"), ("6", "key"), ("7", "hours"), ("8", "longitude")]
    assert all(r["reason_zh"] and r["reason_en"] and r["reason_zh"] != r["reason_en"] for r in rejects)
    with pack.unit_of_work() as s:
        hall = s.scalar(select(Place).where(Place.key == "imp.hall-gcj"))
        clinic = s.scalar(select(Place).where(Place.key == "imp.clinic-1"))
        assert hall is not None and clinic is not None
        w_lat, w_lon = geo.gcj02_to_wgs84(29.8634, 121.5521)
        assert (hall.latitude, hall.longitude) == (round(w_lat, 7), round(w_lon, 7))
        assert geo.haversine_m(29.8634, 121.5521, hall.latitude, hall.longitude) > 100  # really moved
        assert (clinic.latitude, clinic.longitude) == (29.871, 121.545)
        assert clinic.hours == {"weekly": {"mon": ["08:00-17:00"], "tue": ["08:00-17:00"], "wed": ["08:00-17:00"],
                                           "thu": ["08:00-17:00"], "fri": ["08:00-17:00"], "sat": ["08:00-12:00"]},
                                "holidays": "open"}
        assert clinic.services == ["全科门诊", "预防接种"] and clinic.accessibility == ["wheelchair"]
        assert clinic.cell == geo.cell_key(29.871, 121.545) and clinic.source == "import"
    again = import_places(pack, path, principal=OPERATOR)
    assert (again.loaded, again.updated, again.unchanged) == (0, 0, 2)


def test_import_parquet_and_a_wrong_header(pack, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "places.parquet"
    pl.DataFrame({"key": ["pq.1"], "name_zh": ["图书分馆"], "category": ["library"],
                  "longitude": [121.54], "latitude": [29.87]}).write_parquet(path)
    report = import_places(pack, path, principal=OPERATOR, datum="wgs84")
    assert report.loaded == 1 and report.rejected == 0 and report.reject_file is None
    with pytest.raises(Invalid) as missing:
        import_places(pack, _csv(tmp_path / "m.csv", [["k", "n"]], ["key", "name_zh"]), principal=OPERATOR)
    assert missing.value.field == "category"
    with pytest.raises(Invalid) as unknown:
        import_places(pack, _csv(tmp_path / "u.csv", [], [*HEADER, "colour"]), principal=OPERATOR)
    assert unknown.value.field == "colour"


def test_import_api_keeps_staff_in_their_region(pack, client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pack.unit_of_work() as s:
        make_staff(s, "places.yuehu", department_id="dept.haishu.gov", roles=["places_editor"],
                   region_code="330203004")
        make_staff(s, "officer.x", department_id="dept.haishu.gov", roles=["officer"], region_code="330203")
    rows = [ROWS[0], ["imp.outside", "南门的", "", "clinic", "330203001001", "121.55", "29.86", "", "", "", "",
                      "", ""]]
    data = _csv(tmp_path / "p.csv", rows).read_bytes()
    files = {"file": ("p.csv", data, "text/csv")}
    denied = client.post("/api/v1/places/import", files=files, headers=token_for(client, "officer.x"))
    assert denied.status_code == 403
    r = client.post("/api/v1/places/import", files=files, data={"datum": "wgs84"},
                    headers={**token_for(client, "places.yuehu"), "Accept-Language": "en"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["loaded"], body["rejected"]) == (1, 1)
    assert body["rejects"][0]["line"] == 3 and body["rejects"][0]["field"] == "region_code"
    wrong = client.post("/api/v1/places/import", files={"file": ("p.txt", b"x", "text/plain")},
                        headers=token_for(client, "places.yuehu"))
    assert wrong.status_code == 422 and wrong.json()["field"] == "file"


def test_import_cli(pack, cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _csv(tmp_path / "places.csv", ROWS)
    out = cli("places", "import", str(path))
    assert out.exit_code == 0, out.output
    assert "rejected rows" in out.output and (tmp_path / "places.rejects.csv").exists()
    bad = cli("places", "import", str(tmp_path / "nothing.csv"))
    assert bad.exit_code != 0 and "file" in bad.output
