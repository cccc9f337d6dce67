"""The unit of work on the embedded database: concurrent read-then-write transactions queue
instead of failing (SQLite WAL's 'database is locked' on a stale snapshot). The PostgreSQL pool
pings only connections that sat idle."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from tests.factories import seed_base
from tongban.core.db import Database
from tongban.core.identity.models import Department


def test_concurrent_read_then_write_units_of_work_both_commit(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        seed_base(s)
    errors: list[BaseException] = []
    started = threading.Event()

    def slow_reader_then_writer() -> None:
        try:
            with db.unit_of_work() as s:
                s.scalars(select(Department)).all()
                started.set()
                time.sleep(0.3)
                s.get_one(Department, "dept.haishu.mca").name_en = "A"
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def quick_writer() -> None:
        started.wait(5)
        try:
            with db.unit_of_work() as s:
                s.get_one(Department, "dept.haishu.health").name_en = "B"
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=slow_reader_then_writer), threading.Thread(target=quick_writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.unit_of_work() as s:
        assert s.get_one(Department, "dept.haishu.mca").name_en == "A"
        assert s.get_one(Department, "dept.haishu.health").name_en == "B"


def test_a_pooled_connection_is_pinged_only_after_sitting_idle_and_replaced_if_gone(database, monkeypatch):  # type: ignore[no-untyped-def]
    if database.is_sqlite:
        pytest.skip("the PostgreSQL connection pool")
    from tongban.core import db as db_module

    db = Database(database.url)
    pings: list[int] = []
    real_ping = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda conn: pings.append(1) or real_ping(conn))
    try:
        with db.engine.connect() as conn:
            backend = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with db.engine.connect() as conn:  # the same connection, back from the pool at once
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == backend
        assert pings == []
        with database.engine.begin() as other:  # the server drops it while it sits in the pool
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != backend
        assert pings == [1]
    finally:
        db.dispose()
