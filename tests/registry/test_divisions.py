"""The national GB/T 2260 list: parsing, validation without the database, idempotent load."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tongban.core.errors import Invalid
from tongban.registry import divisions
from tongban.registry.models import Division


def test_the_list_has_current_and_historical_codes_with_years() -> None:
    codes = divisions.national()
    assert len(codes) > 6000
    haishu = codes["330203"]
    assert (haishu.name, haishu.level, haishu.valid_from, haishu.valid_to) == ("海曙区", "county", 1983, None)
    jiangdong = codes["330204"]
    assert jiangdong.valid_to == 2016 and not jiangdong.current
    assert jiangdong.in_force(2000) and not jiangdong.in_force(2017)
    assert codes["330000"].level == "province" and codes["330200"].level == "city"
    renamed = codes["330206"]  # 滨海区 1985-1986, then 北仑区
    assert [s.name for s in renamed.spans] == ["滨海区", "北仑区"] and renamed.name == "北仑区"
    assert renamed.in_force(1985) and renamed.in_force(2020) and not renamed.in_force(1984)


def test_source_names_the_package_version_and_the_data_is_recent() -> None:
    assert divisions.source().startswith(f"python-stdnum {divisions.package_version()}")
    assert divisions.data_year() >= 2023


def test_unknown_and_malformed_codes_are_rejected_clearly() -> None:
    assert divisions.is_known("330203") and not divisions.is_known("620201")
    with pytest.raises(Invalid, match="not in the national division list") as err:
        divisions.check_code("620201", field="area")
    assert err.value.field == "area"
    for bad in ("33020", "33020a", "３３０２０３"):
        with pytest.raises(Invalid, match="6 digits"):
            divisions.check_code(bad)


def test_a_malformed_data_file_is_an_error_not_a_silent_gap() -> None:
    with pytest.raises(ValueError, match="unexpected line"):
        divisions.parse('33 province="浙江省"\n  0203 nonsense\n')


def test_load_fills_the_table_and_a_second_load_changes_nothing(db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as session:
        first = divisions.load(session)
    assert first.inserted == len(divisions.national()) and first.updated == 0
    with db.unit_of_work() as session:
        session.get(Division, "330203").name = "改过"  # type: ignore[union-attr]
    with db.unit_of_work() as session:
        second = divisions.load(session)
        assert (second.inserted, second.updated) == (0, 1)
        assert session.get(Division, "330203").name == "海曙区"  # type: ignore[union-attr]
        assert session.get(Division, "330204").valid_to == 2016  # type: ignore[union-attr]
    with db.unit_of_work() as session:
        third = divisions.load(session)
        assert (third.inserted, third.updated) == (0, 0)
        assert session.scalar(select(func.count()).select_from(Division)) == len(divisions.national())


def test_cli_load_reports_the_source_and_is_idempotent(cli, db) -> None:  # type: ignore[no-untyped-def]
    result = cli("registry", "divisions", "load")
    assert result.exit_code == 0, result.output
    assert "python-stdnum" in result.output and "added" in result.output
    again = cli("registry", "divisions", "load")
    assert again.exit_code == 0 and " 0 added, 0 updated" in again.output


def test_cli_show_explains_a_code_and_rejects_an_unknown_one(cli) -> None:  # type: ignore[no-untyped-def]
    shown = cli("registry", "divisions", "show", "330206")
    assert shown.exit_code == 0 and "滨海区" in shown.output and "北仑区" in shown.output
    bad = cli("registry", "divisions", "show", "620201")
    assert bad.exit_code == 2
