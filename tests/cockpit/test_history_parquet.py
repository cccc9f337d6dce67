"""The service history at scale (#31): the same seed writes the same rows to the database and to
Parquet; `tongban cockpit history --parquet` and `tongban cockpit load` carry a city and its
history into an empty database (ids kept, sequences past them), and refuse a database that is not
empty."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import func, insert, select

from tests.cockpit import figures_city as fc
from tongban.cases.models import Case, CaseEvent
from tongban.cockpit import history as cockpit_history
from tongban.core.history_sink import ParquetSink, parquet_residents
from tongban.core.indicators import History
from tongban.ratings.models import Rating, Rectification
from tongban.registry import generator, loader
from tongban.services.models import Application, ApplicationEvent, Task

PERSONS = 600
TABLES = (Application, Task, ApplicationEvent, Case, CaseEvent, Rating, Rectification)
NUMBERED_BY_DB = {"svc_application_event", "case_event"}  # rows that do not name their ids


def _parts() -> list[Any]:
    return [p for p in cockpit_history.parts() if "parquet" in p.sinks]


def _from_db(db: Any, model: Any) -> list[dict[str, Any]]:
    table = model.__table__
    with db.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(table).order_by(table.c.id))]
    if table.name in NUMBERED_BY_DB:
        for r in rows:
            r.pop("id")
    return rows


def _from_parquet(folder: Path, model: Any) -> list[dict[str, Any]]:
    from sqlalchemy import JSON

    table = model.__table__
    files = sorted((folder / table.name).glob("part-*.parquet"))
    if not files:
        return []
    rows = pl.concat([pl.read_parquet(f) for f in files]).to_dicts()
    json_cols = [c.name for c in table.columns if isinstance(c.type, JSON)]
    for r in rows:
        for c in json_cols:
            if c in r:
                r[c] = None if r[c] is None else json.loads(r[c])
    return rows


def _said(result) -> str:  # type: ignore[no-untyped-def]
    """What the command printed, its lines joined: Rich wraps a long line (a temporary path) at
    the terminal's width, anywhere between two words."""
    return " ".join(result.output.split())


def test_the_same_seed_writes_the_same_rows_to_the_database_and_to_parquet(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fc.load_city(db, persons=PERSONS)
    cfg = generator.CityConfig(persons=PERSONS, seed=11, communities=tuple(loader.community_codes(db)),
                               as_of=fc.START, shapes=loader.community_shapes(db))
    generator.write_parquet(cfg, tmp_path / "city")
    residents = parquet_residents(tmp_path / "city")
    with db.unit_of_work() as s:
        from tongban.registry import reads

        assert list(residents) == reads.living_residents(s)  # the Parquet city is the loaded one
    sink = ParquetSink(tmp_path / "history")
    with db.unit_of_work() as s:  # first to Parquet: the database stays without a history
        h = History(session=s, seed=5, start=fc.START, end=fc.END, persons=PERSONS, rate=10.0, notes={},
                    sink=sink, residents=lambda: residents)
        to_parquet = {}
        for part in _parts():
            to_parquet[part.key] = part.write(h)
            sink.close()  # what it wrote is readable by the parts after it
        s.rollback()
    sink.close()
    with db.unit_of_work() as s:
        h = History(session=s, seed=5, start=fc.START, end=fc.END, persons=PERSONS, rate=10.0, notes={})
        to_db = {p.key: p.write(h) for p in _parts()}
    assert to_db == to_parquet and all(to_db.values()), (to_db, to_parquet)
    for model in TABLES:
        in_db, in_files = _from_db(db, model), _from_parquet(tmp_path / "history", model)
        assert in_db, model.__table__.name
        assert len(in_db) == len(in_files), model.__table__.name
        for a, b in zip(in_db, in_files, strict=True):
            assert {k: a[k] for k in b} == b, model.__table__.name
            assert all(a[k] is None for k in set(a) - set(b)), model.__table__.name  # left out: empty


def test_history_written_as_parquet_loads_into_an_empty_database_and_refuses_a_full_one(cli, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        from tongban.core.packs.loader import load_pack

        load_pack(s, fc.PACK)
    out = tmp_path / "pq"
    r = cli("cockpit", "history", "--persons", "800", "--days", "40", "--rate", "5", "--parquet", str(out))
    assert r.exit_code == 0, r.output
    manifest = json.loads((out / cockpit_history.MANIFEST).read_text("utf-8"))
    assert manifest["tables"]["svc_application"] > 0 and manifest["tables"]["rating"] > 0
    assert "codes.issued" in manifest["deferred"]
    with db.engine.connect() as conn:  # nothing of it went into the database
        assert conn.execute(select(func.count()).select_from(Application)).scalar_one() == 0
    r = cli("cockpit", "load", str(out))
    assert r.exit_code == 0, r.output
    assert "cockpit refreshed" in _said(r)
    with db.engine.connect() as conn:
        for name, rows in manifest["tables"].items():
            model = next(m for m in TABLES if m.__table__.name == name)
            assert conn.execute(select(func.count()).select_from(model)).scalar_one() == rows, name
        top = conn.execute(select(func.max(Application.id))).scalar_one()
    assert top == manifest["tables"]["svc_application"]  # the ids as written: 1 … n
    # the sequences were moved past the loaded ids: a new application gets the next one
    with db.unit_of_work() as s:
        row = s.execute(select(Application).limit(1)).scalar_one()
        data = {c.name: getattr(row, c.key) for c in Application.__table__.columns if c.name != "id"}
        data["idempotency_key"] = data["request_hash"] = "after-load"
        new_id = s.execute(insert(Application).returning(Application.id), data).scalar_one()
    assert new_id == top + 1
    # loading again into what is no longer empty is refused, naming why
    r = cli("cockpit", "load", str(out))
    assert r.exit_code == 2 and "空数据库" in r.output  # in the user's language
    r = cli("cockpit", "load", str(tmp_path / "nothing"))
    assert r.exit_code == 2 and "没有以 Parquet 写出的服务历史" in r.output


def test_a_written_period_ends_today(cli, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tongban.core import clock

    with db.unit_of_work() as s:
        from tongban.core.packs.loader import load_pack

        load_pack(s, fc.PACK)
    out = tmp_path / "pq"
    r = cli("cockpit", "history", "--persons", "300", "--days", "3", "--parquet", str(out))
    assert r.exit_code == 0, r.output
    manifest = json.loads((out / cockpit_history.MANIFEST).read_text("utf-8"))
    assert manifest["end"] == clock.today().isoformat()
    assert manifest["start"] == (clock.today() - dt.timedelta(days=2)).isoformat()
    r = cli("cockpit", "history", "--persons", "300", "--days", "3", "--parquet", str(out))
    assert r.exit_code == 2 and "not empty" in _said(r)


def test_load_can_leave_out_the_registry_tables_the_cockpit_does_not_read(cli, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tongban.registry.models import Address, Household, HouseholdMember, IncomeRecord, Person

    with db.unit_of_work() as s:
        from tongban.core.packs.loader import load_pack

        load_pack(s, fc.PACK)
    out = tmp_path / "pq"
    r = cli("cockpit", "history", "--persons", "300", "--days", "10", "--rate", "5", "--parquet", str(out))
    assert r.exit_code == 0, r.output
    manifest = json.loads((out / cockpit_history.MANIFEST).read_text("utf-8"))
    # names it does not know, or a set without the persons the history names: refused, nothing loaded
    for bad, said in (("person,incomes", "incomes"), ("household", "person")):
        r = cli("cockpit", "load", str(out), "--city-tables", bad)
        assert r.exit_code == 2 and said in _said(r), r.output
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Person)).scalar_one() == 0
    # household_member brings what it points to (person, household, address); the rest stays out
    r = cli("cockpit", "load", str(out), "--city-tables", "household_member")
    assert r.exit_code == 0, r.output
    assert "the city's tables loaded: address, household, person, household_member" in _said(r)
    with db.engine.connect() as conn:
        def count(model: Any) -> int:
            return int(conn.execute(select(func.count()).select_from(model)).scalar_one())

        assert count(Person) == manifest["city"]["person"] == 300
        assert count(Household) == manifest["city"]["household"] and count(Address) == manifest["city"]["address"]
        assert count(HouseholdMember) == manifest["city"]["household_member"]
        assert manifest["city"]["income_record"] > 0 and count(IncomeRecord) == 0
        assert count(Application) == manifest["tables"]["svc_application"] > 0
