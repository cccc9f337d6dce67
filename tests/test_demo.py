"""The demo: `load_demo` and `tongban demo load` load the pack and its cast of fixed logins,
only in demo mode, idempotently; every cast login works and residents carry valid ID numbers."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import func, select
from stdnum.cn import ric

from tests.core.test_packs import DEMO, snapshot
from tongban.core.config import load_settings
from tongban.core.errors import Forbidden
from tongban.core.identity.models import Account, PackRecord, Region
from tongban.demo import load_demo

CAST = yaml.safe_load((DEMO / "cast.yaml").read_text(encoding="utf-8"))


def accounts(db) -> dict[str, Account]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return {a.username: a for a in s.scalars(select(Account))}


def test_load_demo_loads_the_pack_and_every_cast_member(db, settings) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        report = load_demo(s, settings)
    assert report.sections["cast"].created == len(CAST["cast"])
    rows = accounts(db)
    assert set(rows) == {m["username"] for m in CAST["cast"]}
    officer = rows["officer.mca"]
    assert (officer.kind, officer.department_id, officer.region_code, officer.role_ids) == (
        "staff", "dept.haishu.mca", "330203", ["officer"])
    assert rows["grid.nanmen"].region_code == "330203001001"
    assert rows["admin.platform"].role_ids == ["platform_admin"]
    zhang = rows["resident.zhang"]
    assert (zhang.kind, zhang.role_ids, zhang.region_code, zhang.department_id) == (
        "resident", ["resident"], "330203001001", None)


def test_every_cast_resident_has_a_valid_id_number_phone_and_community(db, settings) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        load_demo(s, settings)
    residents = [a for a in accounts(db).values() if a.kind == "resident"]
    assert len(residents) >= 6
    with db.unit_of_work() as s:
        for a in residents:
            assert a.id_number is not None and ric.is_valid(a.id_number), a.username
            assert a.phone is not None and len(a.phone) == 11
            assert s.get_one(Region, a.region_code).level == "community"
    sexes = {m["username"]: m["sex"] for m in CAST["cast"] if m["kind"] == "resident"}
    for a in residents:  # GB 11643: the sequence number is odd for men, even for women
        assert (int(a.id_number[16]) % 2 == 1) == (sexes[a.username] == "male"), a.username


def test_loading_the_demo_twice_changes_nothing(db, settings) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        load_demo(s, settings)
    before = snapshot(db), {u: (a.password_hash, a.role_ids, a.region_code) for u, a in accounts(db).items()}
    with db.unit_of_work() as s:
        report = load_demo(s, settings)
    assert not report.changed and report.sections["cast"].unchanged == len(CAST["cast"])
    assert (snapshot(db), {u: (a.password_hash, a.role_ids, a.region_code)
                           for u, a in accounts(db).items()}) == before


def test_load_demo_refuses_outside_demo_mode_and_writes_nothing(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    production = load_settings(demo=False, database_url=db.url, var_dir=tmp_path,
                               secret_key="a-production-secret-key-0123456789abcdef")
    with pytest.raises(Forbidden), db.unit_of_work() as s:
        load_demo(s, production)
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(PackRecord)) == 0
        assert s.scalar(select(func.count()).select_from(Account)) == 0


def test_every_cast_login_gets_a_token(db, settings, client) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        load_demo(s, settings)
    for member in CAST["cast"]:
        password = member.get("password") or CAST["password"]
        r = client.post("/api/v1/auth/token", data={"username": member["username"], "password": password})
        assert r.status_code == 200, (member["username"], r.text)
        assert r.json()["access_token"]
    bad = client.post("/api/v1/auth/token", data={"username": "resident.zhang", "password": "wrong-password"})
    assert bad.status_code in (400, 401)


def test_demo_load_command_loads_the_cast(db, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("demo", "load", "--pack", str(DEMO))
    assert r.exit_code == 0, r.output
    assert "cast" in r.output and len(accounts(db)) == len(CAST["cast"])
    r = cli("demo", "load", "--pack", str(DEMO))
    assert r.exit_code == 0 and "nothing changed" in r.output


def test_demo_load_command_refuses_outside_demo_mode(db, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tongban.core.config import get_settings

    monkeypatch.setenv("TONGBAN_DEMO", "0")
    monkeypatch.setenv("TONGBAN_SECRET_KEY", "a-production-secret-key-0123456789abcdef")
    get_settings.cache_clear()
    r = cli("demo", "load")
    assert r.exit_code == 3
    assert "demo mode" in r.output
    assert accounts(db) == {}


def test_pack_load_skips_the_cast(db, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("pack", "load", str(DEMO))
    assert r.exit_code == 0, r.output
    assert "skipped cast" in r.output and accounts(db) == {}


def test_a_newer_demo_pack_updates_a_cast_members_roles_and_password(db, settings, client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.core.test_packs import copy_demo, edit

    with db.unit_of_work() as s:
        load_demo(s, settings)
    pack = copy_demo(tmp_path)
    edit(pack / "pack.yaml", 'version: "1.0.0"', 'version: "1.0.1"')
    edit(pack / "cast.yaml", "{username: officer.mca, kind: staff,",
         "{username: officer.mca, password: another-password, kind: staff,")
    edit(pack / "cast.yaml", "department: dept.haishu.mca, roles: [officer]",
         "department: dept.haishu.mca, roles: [officer, data_steward]")
    with db.unit_of_work() as s:
        report = load_demo(s, settings, pack_dir=pack)
    assert (report.sections["cast"].updated, report.sections["cast"].created) == (1, 0)
    assert accounts(db)["officer.mca"].role_ids == ["data_steward", "officer"]
    r = client.post("/api/v1/auth/token", data={"username": "officer.mca", "password": "another-password"})
    assert r.status_code == 200


def test_a_cast_id_number_held_by_another_account_is_refused_and_nothing_is_written(db, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.core.test_packs import copy_demo, edit
    from tests.factories import make_resident
    from tongban.core.packs.loader import PackError

    zhang = next(m for m in CAST["cast"] if m["username"] == "resident.zhang")
    with db.unit_of_work() as s:
        load_demo(s, settings)
        s.execute(Account.__table__.delete().where(Account.username == "resident.zhang"))
        make_resident(s, "someone.else", id_number=zhang["id_number"])
    before = snapshot(db), sorted(accounts(db))
    pack = copy_demo(tmp_path)  # a newer version that also renames a department: rolled back whole
    edit(pack / "pack.yaml", 'version: "1.0.0"', 'version: "1.0.1"')
    edit(pack / "departments.yaml", "en: Haishu Civil Affairs Bureau", "en: Renamed")
    with pytest.raises(PackError, match=r"cast.yaml:\d+:\d+: \[resident.zhang\] this ID number already belongs"), \
            db.unit_of_work() as s:
        load_demo(s, settings, pack_dir=pack)
    assert (snapshot(db), sorted(accounts(db))) == before


def test_docs_list_every_demo_login_and_the_password() -> None:
    docs = (DEMO.parents[1] / "docs" / "demo.md").read_text(encoding="utf-8")
    assert f"`{CAST['password']}`" in docs
    for member in CAST["cast"]:
        assert f"`{member['username']}`" in docs, member["username"]
        if member.get("id_number"):
            assert member["id_number"] in docs
